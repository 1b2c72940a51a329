import { describe, expect, it } from "vitest";
import { EMPTY_TEMPLATE, templateBody, termLabel, validateTemplate } from "./ndaTemplateData";

describe("NDA template form", () => {
  it("names every missing field in words", () => {
    expect(Object.keys(validateTemplate({ ...EMPTY_TEMPLATE, termMonths: "" })).sort()).toEqual([
      "body",
      "jurisdiction",
      "termMonths",
      "title",
    ]);
  });

  it("takes a whole number of months from 1 to 120", () => {
    const ok = { title: "T", body: "B", jurisdiction: "J", termMonths: "24" };
    expect(validateTemplate(ok)).toEqual({});
    for (const bad of ["0", "121", "1.5", "-3", "twelve", "1000"]) {
      expect(validateTemplate({ ...ok, termMonths: bad })).toHaveProperty("termMonths");
    }
  });

  it("sends trimmed text and the term as a number", () => {
    expect(templateBody({ title: " T ", body: "\n# B\n", jurisdiction: " France ", termMonths: " 6 " })).toEqual({
      title: "T",
      body: "# B",
      jurisdiction: "France",
      termMonths: 6,
    });
  });

  it("says terms in years when they are whole years", () => {
    expect(termLabel(12)).toBe("1 year");
    expect(termLabel(36)).toBe("3 years");
    expect(termLabel(1)).toBe("1 month");
    expect(termLabel(18)).toBe("18 months");
  });
});
