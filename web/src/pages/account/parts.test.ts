import { describe, expect, it } from "vitest";
import { missingInWords } from "./parts";

describe("missingInWords", () => {
  it("names the missing profile fields as a sentence would", () => {
    expect(missingInWords([])).toBe("");
    expect(missingInWords(["avatar"])).toBe("avatar");
    expect(missingInWords(["bio", "avatar"])).toBe("bio and avatar");
    expect(missingInWords(["firstName", "website", "avatar"])).toBe("first name, website and avatar");
  });

  it("keeps a field it does not know by its wire name", () => {
    expect(missingInWords(["pronouns"])).toBe("pronouns");
  });
});
