// The pitch form's values and their translation to and from the API, without React (unit-tested).
import type { Schemas } from "../../api/client";
import type { Pitch, Visibility } from "./data";

export const GENRES = [
  "Action", "Animation", "Comedy", "Crime", "Documentary", "Drama", "Family", "Fantasy", "Horror",
  "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "Western", "Other",
] as const;

export const FORMATS = [
  "Feature film", "Short film", "TV series", "Limited series", "Documentary", "Web series", "Podcast", "Other",
] as const;

export const VISIBILITY_LABEL: Record<Visibility, string> = {
  public: "Public: anyone can find it",
  investors_only: "Investors and production companies only",
  private: "Private: only you and people you approve",
};

export interface PitchFormState {
  title: string;
  logline: string;
  genre: string;
  format: string;
  synopsis: string;
  budget: string;
  targetAudience: string;
  visibility: Visibility;
  requireNda: boolean;
  /** The NDA template requesters accept: its id as text, "" for none. */
  ndaTemplateId: string;
}

export const EMPTY_FORM: PitchFormState = {
  title: "",
  logline: "",
  genre: "",
  format: "",
  synopsis: "",
  budget: "",
  targetAudience: "",
  visibility: "public",
  requireNda: false,
  ndaTemplateId: "",
};

export function formFromPitch(p: Pitch): PitchFormState {
  return {
    title: p.title,
    logline: p.logline ?? "",
    genre: p.genre ?? "",
    format: p.format ?? "",
    synopsis: p.synopsis ?? "",
    budget: p.budget === null || p.budget === undefined ? "" : String(p.budget),
    targetAudience: p.targetAudience ?? "",
    visibility: p.visibility,
    requireNda: p.requireNda,
    ndaTemplateId: p.ndaTemplateId ? String(p.ndaTemplateId) : "",
  };
}

/** The budget as typed → the decimal string the API takes, or an error. Never through a float. */
export function parseBudget(input: string): { value: string | null } | { error: string } {
  const t = input.trim().replace(/[,\s]/g, "").replace(/^\$/, "");
  if (!t) return { value: null };
  // The size limit is the server's (its VALIDATION_ERROR lands on this field like any other).
  if (!/^\d+(\.\d{1,2})?$/.test(t)) {
    return { error: "Enter an amount in dollars with at most 2 decimals, e.g. 250000 or 1250000.50." };
  }
  return { value: t };
}

/** Client-side checks (the server checks again); field name → message. */
export function validate(f: PitchFormState): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!f.title.trim()) errors.title = "Give your pitch a title.";
  const b = parseBudget(f.budget);
  if ("error" in b) errors.budget = b.error;
  return errors;
}

type Body = Schemas["PitchCreate"];

export function bodyFrom(f: PitchFormState): Omit<Body, "status"> {
  const b = parseBudget(f.budget);
  const opt = (v: string) => (v.trim() ? v.trim() : null);
  return {
    title: f.title.trim(),
    logline: opt(f.logline),
    genre: opt(f.genre),
    format: opt(f.format),
    synopsis: opt(f.synopsis),
    budget: "value" in b ? b.value : null,
    targetAudience: opt(f.targetAudience),
    visibility: f.visibility,
    requireNda: f.requireNda,
    ndaTemplateId: f.ndaTemplateId ? Number(f.ndaTemplateId) : null,
  };
}

