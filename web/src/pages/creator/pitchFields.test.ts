import { describe, expect, it } from "vitest";
import { bodyFrom, EMPTY_FORM, formFromPitch, parseBudget, validate } from "./pitchFields";
import type { Pitch } from "./data";

describe("parseBudget", () => {
  it("keeps the decimal string as typed, without a float", () => {
    expect(parseBudget("2500000.50")).toEqual({ value: "2500000.50" });
    expect(parseBudget("  $2,500,000.5 ")).toEqual({ value: "2500000.5" });
    expect(parseBudget("0")).toEqual({ value: "0" });
    // 0.1 + 0.2 style inputs survive exactly: nothing is parsed to a number.
    expect(parseBudget("9007199254740993.01")).toEqual({ value: "9007199254740993.01" });
  });

  it("empty means no budget", () => {
    expect(parseBudget("")).toEqual({ value: null });
    expect(parseBudget("   ")).toEqual({ value: null });
  });

  it("refuses what is not an amount with at most 2 decimals", () => {
    for (const bad of ["12.345", "-5", "1e6", "abc", "12.", ".5", "1.2.3"]) {
      expect(parseBudget(bad)).toHaveProperty("error");
    }
  });
});

describe("validate and bodyFrom", () => {
  it("needs a title and a well-formed budget", () => {
    expect(validate(EMPTY_FORM)).toEqual({ title: "Give your pitch a title." });
    expect(Object.keys(validate({ ...EMPTY_FORM, title: "T", budget: "1.005" }))).toEqual(["budget"]);
    expect(validate({ ...EMPTY_FORM, title: "T", budget: "1000000000000" })).toEqual({}); // the server judges size
  });

  it("sends trimmed text, null for empty optional fields, the budget as a string", () => {
    const body = bodyFrom({
      ...EMPTY_FORM,
      title: "  Night Train ",
      logline: " ",
      genre: "Thriller",
      budget: "1,250.75",
      visibility: "investors_only",
      requireNda: true,
    });
    expect(body).toEqual({
      title: "Night Train",
      logline: null,
      genre: "Thriller",
      format: null,
      synopsis: null,
      budget: "1250.75",
      targetAudience: null,
      visibility: "investors_only",
      requireNda: true,
      ndaTemplateId: null,
    });
  });

  it("sends the chosen NDA template as a number, none as null", () => {
    expect(bodyFrom({ ...EMPTY_FORM, title: "T", ndaTemplateId: "42" }).ndaTemplateId).toBe(42);
    expect(bodyFrom({ ...EMPTY_FORM, title: "T" }).ndaTemplateId).toBeNull();
  });

  it("round-trips a stored pitch", () => {
    const pitch = {
      title: "T", logline: null, genre: "Drama", format: null, synopsis: "S", budget: "10.00",
      targetAudience: null, visibility: "public", requireNda: false,
    } as unknown as Pitch;
    const form = formFromPitch(pitch);
    expect(form.budget).toBe("10.00");
    expect(bodyFrom(form)).toMatchObject({ title: "T", genre: "Drama", synopsis: "S", budget: "10.00", logline: null });
  });
});
