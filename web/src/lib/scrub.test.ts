import { describe, expect, it } from "vitest";
import { FILTERED, scrub, scrubText } from "./scrub";

const JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXBhcnQ";

describe("scrub", () => {
  it("drops sensitive keys and masks secrets in every string, keeping the rest", () => {
    const event = {
      request: {
        url: "https://pitchey.example/browse?q=jane.doe%40example.com&page=2",
        headers: { Authorization: `Bearer ${JWT}`, Cookie: "pitchey_session=abc", "User-Agent": "Chromium" },
      },
      user: { email: "jane.doe@example.com", id: "7" },
      exception: { values: [{ type: "TypeError", value: `failed for j@x.io with ${JWT}` }] },
      breadcrumbs: [{ category: "console", message: "password=hunter2 sent", data: { arguments: ["a@b.co"] } }],
      extra: { pairs: [["Set-Cookie", "s=1"]] },
      tags: { request_id: "r-1", kind: "render" },
    };
    const clean = scrub(event);
    const text = JSON.stringify(clean);
    for (const secret of [JWT, "abc", "jane.doe@example.com", "j@x.io", "hunter2", "a@b.co", "s=1"]) {
      expect(text).not.toContain(secret);
    }
    expect(clean.request.headers["User-Agent"]).toBe("Chromium");
    expect(clean.request.headers.Authorization).toBe(FILTERED);
    expect(clean.user).toEqual({ email: FILTERED, id: "7" });
    expect(clean.request.url).toBe("https://pitchey.example/browse?q=[email]&page=2");
    expect(clean.tags).toEqual({ request_id: "r-1", kind: "render" });
  });

  it("leaves text without secrets alone", () => {
    expect(scrubText("Cannot read properties of null (reading 'title')")).toBe(
      "Cannot read properties of null (reading 'title')",
    );
    expect(scrub(null)).toBeNull();
    expect(scrub(42)).toBe(42);
  });
});
