// The pitch's form, shared by "new" and "edit". The form owns what is typed: a failed save keeps
// every character and shows the server's field errors at their fields.
import { useEffect, useRef, type FormEvent, type ReactNode } from "react";
import { Checkbox, Select, TextArea, TextField } from "../../ui";
import type { Visibility } from "./data";
import { FORMATS, GENRES, VISIBILITY_LABEL, type PitchFormState } from "./pitchFields";
import { NdaTemplateSelect } from "./NdaTemplateSelect";
import s from "./creator.module.css";

function withCurrent(options: readonly string[], current: string) {
  const list = [{ value: "", label: "Choose…" }, ...options.map((o) => ({ value: o, label: o }))];
  if (current && !options.includes(current)) list.push({ value: current, label: current });
  return list;
}

export function PitchForm({
  value,
  onChange,
  errors,
  onSubmit,
  attempt,
  children,
}: {
  value: PitchFormState;
  onChange: (next: PitchFormState) => void;
  errors: Record<string, string>;
  onSubmit: () => void;
  /** Counts failed saves: after each one (and whenever its errors arrive) the first invalid field gets the focus. */
  attempt: number;
  children: ReactNode;
}) {
  const form = useRef<HTMLFormElement>(null);
  const errorKey = Object.keys(errors).sort().join(",");
  useEffect(() => {
    if (attempt > 0 && errorKey) form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [attempt, errorKey]);

  const set =
    <K extends keyof PitchFormState>(k: K) =>
    (v: PitchFormState[K]) =>
      onChange({ ...value, [k]: v });

  function submit(e: FormEvent) {
    e.preventDefault();
    onSubmit();
  }

  return (
    <form ref={form} onSubmit={submit} noValidate aria-label="Pitch details">
      <TextField label="Title" name="title" required maxLength={255} value={value.title}
        onChange={(e) => set("title")(e.target.value)} error={errors.title} />
      <TextArea label="Logline" name="logline" rows={2} maxLength={1000} value={value.logline}
        onChange={(e) => set("logline")(e.target.value)} error={errors.logline}
        hint="One or two sentences: who wants what, and what stands in the way." />
      <div className={s.formRow}>
        <Select label="Genre" name="genre" value={value.genre} options={withCurrent(GENRES, value.genre)}
          onChange={(e) => set("genre")(e.target.value)} error={errors.genre} />
        <Select label="Format" name="format" value={value.format} options={withCurrent(FORMATS, value.format)}
          onChange={(e) => set("format")(e.target.value)} error={errors.format} />
      </div>
      <TextArea label="Synopsis" name="synopsis" rows={8} maxLength={20000} value={value.synopsis}
        onChange={(e) => set("synopsis")(e.target.value)} error={errors.synopsis} />
      <div className={s.formRow}>
        <TextField label="Budget (USD)" name="budget" inputMode="decimal" autoComplete="off" value={value.budget}
          onChange={(e) => set("budget")(e.target.value)} error={errors.budget} hint="e.g. 2500000 or 2500000.00" />
        <TextField label="Target audience" name="targetAudience" maxLength={500} value={value.targetAudience}
          onChange={(e) => set("targetAudience")(e.target.value)} error={errors.targetAudience}
          hint="e.g. Adults 18-34 who love heist films" />
      </div>
      <Select label="Visibility" name="visibility" value={value.visibility}
        options={(Object.keys(VISIBILITY_LABEL) as Visibility[]).map((v) => ({ value: v, label: VISIBILITY_LABEL[v] }))}
        onChange={(e) => set("visibility")(e.target.value as Visibility)} error={errors.visibility} />
      <Checkbox label="Require an NDA to see the synopsis, budget and deck" name="requireNda"
        checked={value.requireNda} onChange={(e) => set("requireNda")(e.target.checked)} />
      {errors.requireNda && <p className={s.muted} role="alert">{errors.requireNda}</p>}
      <NdaTemplateSelect value={value.ndaTemplateId} onChange={set("ndaTemplateId")} error={errors.ndaTemplateId} />
      <div className={s.actions}>{children}</div>
    </form>
  );
}
