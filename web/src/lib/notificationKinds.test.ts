import { describe, expect, it } from "vitest";
import openapi from "../../openapi.json";
import { KIND_GROUPS, kindInfo } from "./notificationKinds";

interface NotificationsSchema {
  propertyNames: { enum: string[] };
}

describe("notification kinds", () => {
  it("names every kind the server declares, each in a group of its own (not Other)", () => {
    // The kinds /api/user/preferences answers with: the enum the server's OpenAPI declares.
    const kinds = (openapi.components.schemas.PreferencesOut.properties.notifications as NotificationsSchema).propertyNames.enum;
    expect(kinds.length).toBeGreaterThanOrEqual(20);
    for (const kind of kinds) {
      expect(kindInfo(kind).group, kind).not.toBe("Other");
      expect(kindInfo(kind).many, kind).not.toContain("_");
    }
  });

  it("shows a kind it does not know under its own words, in Other", () => {
    expect(kindInfo("brand_new_kind")).toEqual({ one: "brand new kind", many: "brand new kind", group: "Other" });
    expect(KIND_GROUPS).toContain("Other");
  });
});
