// /production/projects/new: a project from a published pitch (searched here, or ?pitchId= from the
// pitch page), with budget lines and milestones as rows. Money stays a decimal string end to end;
// errors (ours or the API's VALIDATION_ERROR details) land on the row they belong to, and nothing
// typed is lost when the API refuses.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { useNavigate, useSearchParams } from "react-router";
import { api, ApiError, errorMessage, unwrap, type Schemas } from "../../api/client";
import { keys } from "../../api/keys";
import { formatMoney } from "../../lib/format";
import { Alert, Button, ButtonLink, Card, Empty, ErrorState, Loading, PageHeader, Select, TextField, layout } from "../../ui";
import { parseAmount, percentOf, sumMoney, toCents } from "./money";
import s from "./production.module.css";
import { errorsByPath, STAGE_OPTIONS, unwrapPage, useDocumentTitle, type Stage } from "./shared";

type Pitch = Schemas["CatalogPitchOut"];
type ChosenPitch = Pick<Pitch, "id" | "title" | "logline" | "genre" | "format">;

interface LineRow {
  key: number;
  category: string;
  allocated: string;
}
interface MilestoneRow {
  key: number;
  title: string;
  dueDate: string;
}

let nextKey = 1;
const newLine = (): LineRow => ({ key: nextKey++, category: "", allocated: "" });
const newMilestone = (): MilestoneRow => ({ key: nextKey++, title: "", dueDate: "" });

/** The id of the input that shows the error of a path (`budgetLines.1.allocated` → its input). */
const fieldId = (path: string) => `pf-${path.replace(/\./g, "-")}`;

export default function ProjectNew() {
  useDocumentTitle("New project");
  const [params] = useSearchParams();
  const fromUrl = Number.parseInt(params.get("pitchId") ?? "", 10);
  const urlPitchId = Number.isFinite(fromUrl) && fromUrl > 0 ? fromUrl : null;

  const [pitch, setPitch] = useState<ChosenPitch | null>(null);
  const [urlPitchDropped, setUrlPitchDropped] = useState(false);
  const [form, setForm] = useState({ title: "", stage: "development" as Stage, budget: "", startDate: "", endDate: "" });
  const [lines, setLines] = useState<LineRow[]>(() => [newLine()]);
  const [milestones, setMilestones] = useState<MilestoneRow[]>(() => [newMilestone()]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const alertRef = useRef<HTMLDivElement>(null);
  const qc = useQueryClient();
  const navigate = useNavigate();

  // A pitch named in the URL (the "Start a project" link of a pitch page).
  const urlPitch = useQuery({
    queryKey: keys.pitch(urlPitchId ?? 0),
    queryFn: () => unwrap(api.GET("/api/pitches/{id}", { params: { path: { id: urlPitchId ?? 0 } } })),
    enabled: urlPitchId !== null && !urlPitchDropped,
  });
  const chosen: ChosenPitch | null =
    pitch ?? (urlPitchId !== null && !urlPitchDropped && urlPitch.data ? urlPitch.data : null);

  // The project is usually called after its pitch: offer the title once, without overwriting.
  const prefilled = useRef(false);
  useEffect(() => {
    if (chosen && !prefilled.current) {
      prefilled.current = true;
      setForm((f) => (f.title ? f : { ...f, title: chosen.title }));
    }
  }, [chosen]);

  const create = useMutation({
    mutationFn: (body: Schemas["ProjectCreate"]) => unwrap(api.POST("/api/production/projects", { body })),
    onSuccess: (project) => {
      qc.setQueryData(keys.project(project.id), project);
      void qc.invalidateQueries({ queryKey: keys.projects });
      void qc.invalidateQueries({ queryKey: keys.analytics });
      void navigate(`/production/projects/${project.id}`);
    },
  });

  function clearError(path: string) {
    if (errors[path]) {
      const { [path]: _, ...rest } = errors;
      setErrors(rest);
    }
  }

  /** Row errors follow their row when a row above is removed. */
  function dropRowErrors(list: "budgetLines" | "milestones", index: number) {
    const out: Record<string, string> = {};
    for (const [path, msg] of Object.entries(errors)) {
      const m = new RegExp(`^${list}\\.(\\d+)\\.(.+)$`).exec(path);
      if (!m) {
        out[path] = msg;
        continue;
      }
      const i = Number(m[1]);
      if (i < index) out[path] = msg;
      else if (i > index) out[`${list}.${i - 1}.${m[2]}`] = msg;
    }
    setErrors(out);
  }

  function focusFirst(errs: Record<string, string>) {
    // Page order: the fields above the rows, then budget lines, then milestones.
    const order = ["pitchId", "title", "stage", "budget", "startDate", "endDate"];
    const paths = Object.keys(errs).filter((p) => p !== "");
    paths.sort((a, b) => rank(a) - rank(b));
    function rank(p: string) {
      const top = order.indexOf(p);
      if (top >= 0) return top;
      const m = /^(budgetLines|milestones)\.(\d+)\.(\w+)$/.exec(p);
      if (!m) return 1000;
      return (m[1] === "budgetLines" ? 100 : 500) + Number(m[2]) * 2 + (m[3] === "category" || m[3] === "title" ? 0 : 1);
    }
    const first = paths[0];
    const el = first ? document.getElementById(fieldId(first)) : null;
    if (el) el.focus();
    else alertRef.current?.focus();
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    setFormError(null);
    const errs: Record<string, string> = {};
    const title = form.title.trim();
    if (!title) errs.title = "Give the project a title.";
    const budget = parseAmount(form.budget, true);
    if ("error" in budget) errs.budget = budget.error;
    if (form.startDate && form.endDate && form.endDate < form.startDate) errs.endDate = "The end date must not be before the start date.";

    // Rows left completely empty are not sent; `sentLines[i]` is the row index the API's index i means.
    const sentLines: number[] = [];
    const budgetLines: Schemas["BudgetLineIn"][] = [];
    const seen = new Map<string, number>();
    lines.forEach((row, i) => {
      if (!row.category.trim() && !row.allocated.trim()) return;
      const category = row.category.trim();
      if (!category) errs[`budgetLines.${i}.category`] = "Name the category (e.g. Crew).";
      else if (seen.has(category.toLowerCase())) errs[`budgetLines.${i}.category`] = `"${category}" is already line ${(seen.get(category.toLowerCase()) ?? 0) + 1}.`;
      else seen.set(category.toLowerCase(), i);
      const amount = parseAmount(row.allocated, true);
      if ("error" in amount) errs[`budgetLines.${i}.allocated`] = amount.error;
      sentLines.push(i);
      budgetLines.push({ category, allocated: "value" in amount ? amount.value : row.allocated });
    });
    const sentMilestones: number[] = [];
    const ms: Schemas["MilestoneIn"][] = [];
    milestones.forEach((row, i) => {
      if (!row.title.trim() && !row.dueDate) return;
      if (!row.title.trim()) errs[`milestones.${i}.title`] = "Give the milestone a title.";
      sentMilestones.push(i);
      ms.push({ title: row.title.trim(), dueDate: row.dueDate || null });
    });

    setErrors(errs);
    if (Object.keys(errs).length) {
      setFormError("Some fields need a look: see the messages next to them.");
      requestAnimationFrame(() => focusFirst(errs));
      return;
    }
    create.mutate(
      {
        title,
        stage: form.stage,
        budget: "value" in budget ? budget.value : form.budget,
        pitchId: chosen?.id ?? null,
        startDate: form.startDate || null,
        endDate: form.endDate || null,
        budgetLines,
        milestones: ms,
      },
      {
        onError: (err) => {
          const byPath = errorsByPath(err);
          const mapped: Record<string, string> = {};
          const unmapped: string[] = [];
          for (const [path, msg] of Object.entries(byPath)) {
            const m = /^(budgetLines|milestones)\.(\d+)\.(\w+)$/.exec(path);
            if (m) {
              const rows = m[1] === "budgetLines" ? sentLines : sentMilestones;
              const row = rows[Number(m[2])];
              if (row !== undefined) {
                mapped[`${m[1]}.${row}.${m[3]}`] = msg;
                continue;
              }
            }
            if (path && /^(title|stage|budget|startDate|endDate|pitchId)$/.test(path)) mapped[path] = msg;
            else unmapped.push(path ? `${path}: ${msg}` : msg);
          }
          setErrors(mapped);
          if (err instanceof ApiError && err.code === "VALIDATION_ERROR") {
            setFormError(unmapped.length ? unmapped.join(" ") : "Some fields need a look: see the messages next to them.");
          } else {
            setFormError(errorMessage(err));
          }
          requestAnimationFrame(() => focusFirst(mapped));
        },
      },
    );
  }

  const allocated = sumMoney(lines.map((l) => {
    const a = parseAmount(l.allocated, true);
    return "value" in a ? a.value : "0";
  }));
  const parsedBudget = parseAmount(form.budget, true);
  const budgetNorm = "value" in parsedBudget ? parsedBudget.value : null;
  const overAllocated = budgetNorm !== null && (toCents(allocated) ?? 0n) > (toCents(budgetNorm) ?? 0n);
  const allocatedPct = budgetNorm !== null ? percentOf(allocated, budgetNorm) : null;

  return (
    <>
      <PageHeader title="New project">
        <ButtonLink to="/production" variant="secondary">
          Back to projects
        </ButtonLink>
      </PageHeader>
      <form onSubmit={submit} noValidate aria-describedby={formError ? "pf-form-error" : undefined}>
        <div className={`${layout.stack} ${s.narrow}`}>
          {formError && (
            <div ref={alertRef} tabIndex={-1} id="pf-form-error">
              <Alert>{formError}</Alert>
            </div>
          )}
          <PitchPicker
            chosen={chosen}
            loadingUrlPitch={urlPitchId !== null && !urlPitchDropped && urlPitch.isPending}
            urlPitchError={urlPitchId !== null && !urlPitchDropped && urlPitch.isError ? urlPitch.error : null}
            error={errors.pitchId}
            onChoose={(p) => {
              setPitch(p);
              clearError("pitchId");
              if (p && !form.title.trim()) setForm({ ...form, title: p.title });
              // The list the button was in is gone: keep the focus where the choice is shown.
              requestAnimationFrame(() => document.getElementById(fieldId("pitchId"))?.focus());
            }}
            onClear={() => {
              setPitch(null);
              setUrlPitchDropped(true);
              requestAnimationFrame(() => document.getElementById(fieldId("pitchId"))?.focus());
            }}
          />
          <Card aria-labelledby="pf-details">
            <h2 id="pf-details">Project</h2>
            <TextField
              id={fieldId("title")}
              label="Title"
              name="title"
              required
              maxLength={255}
              value={form.title}
              error={errors.title}
              onChange={(e) => {
                setForm({ ...form, title: e.target.value });
                clearError("title");
              }}
            />
            <div className={s.formGrid}>
              <Select
                id={fieldId("stage")}
                label="Stage"
                value={form.stage}
                options={STAGE_OPTIONS}
                error={errors.stage}
                onChange={(e) => setForm({ ...form, stage: e.target.value as Stage })}
              />
              <TextField
                id={fieldId("budget")}
                label="Total budget (USD)"
                inputMode="decimal"
                autoComplete="off"
                required
                placeholder="250000.00"
                value={form.budget}
                error={errors.budget}
                onChange={(e) => {
                  setForm({ ...form, budget: e.target.value });
                  clearError("budget");
                }}
              />
              <TextField
                id={fieldId("startDate")}
                label="Start date"
                type="date"
                value={form.startDate}
                error={errors.startDate}
                onChange={(e) => {
                  setForm({ ...form, startDate: e.target.value });
                  clearError("startDate");
                }}
              />
              <TextField
                id={fieldId("endDate")}
                label="End date"
                type="date"
                min={form.startDate || undefined}
                value={form.endDate}
                error={errors.endDate}
                onChange={(e) => {
                  setForm({ ...form, endDate: e.target.value });
                  clearError("endDate");
                }}
              />
            </div>
          </Card>

          <Card>
            <fieldset className={s.rows}>
              <legend>Budget lines</legend>
              <p className={`${s.muted} ${s.small}`} aria-live="polite">
                Allocated {formatMoney(allocated)}
                {budgetNorm !== null && <> of {formatMoney(budgetNorm)}</>}
                {allocatedPct !== null && !overAllocated && <> ({allocatedPct}%)</>}
                {overAllocated && <span className={s.over}> · more than the total budget</span>}
              </p>
              {lines.map((row, i) => (
                <div className={s.row} key={row.key}>
                  <TextField
                    id={fieldId(`budgetLines.${i}.category`)}
                    label={`Category, line ${i + 1}`}
                    maxLength={100}
                    placeholder="Crew"
                    value={row.category}
                    error={errors[`budgetLines.${i}.category`]}
                    onChange={(e) => {
                      setLines(lines.map((l) => (l.key === row.key ? { ...l, category: e.target.value } : l)));
                      clearError(`budgetLines.${i}.category`);
                    }}
                  />
                  <TextField
                    id={fieldId(`budgetLines.${i}.allocated`)}
                    label={`Allocated, line ${i + 1}`}
                    inputMode="decimal"
                    autoComplete="off"
                    placeholder="50000.00"
                    value={row.allocated}
                    error={errors[`budgetLines.${i}.allocated`]}
                    onChange={(e) => {
                      setLines(lines.map((l) => (l.key === row.key ? { ...l, allocated: e.target.value } : l)));
                      clearError(`budgetLines.${i}.allocated`);
                    }}
                  />
                  <div className={s.rowRemove}>
                    <Button
                      variant="secondary"
                      small
                      onClick={() => {
                        setLines(lines.filter((l) => l.key !== row.key));
                        dropRowErrors("budgetLines", i);
                      }}
                    >
                      Remove line {i + 1}
                    </Button>
                  </div>
                </div>
              ))}
              {lines.length === 0 && <Empty>No budget lines. Add one for each category you will spend on.</Empty>}
              <Button variant="secondary" onClick={() => setLines([...lines, newLine()])}>
                Add budget line
              </Button>
            </fieldset>
          </Card>

          <Card>
            <fieldset className={s.rows}>
              <legend>Milestones</legend>
              {milestones.map((row, i) => (
                <div className={s.row} key={row.key}>
                  <TextField
                    id={fieldId(`milestones.${i}.title`)}
                    label={`Milestone ${i + 1}`}
                    maxLength={255}
                    placeholder="Principal photography"
                    value={row.title}
                    error={errors[`milestones.${i}.title`]}
                    onChange={(e) => {
                      setMilestones(milestones.map((m) => (m.key === row.key ? { ...m, title: e.target.value } : m)));
                      clearError(`milestones.${i}.title`);
                    }}
                  />
                  <TextField
                    id={fieldId(`milestones.${i}.dueDate`)}
                    label={`Due date, milestone ${i + 1}`}
                    type="date"
                    value={row.dueDate}
                    error={errors[`milestones.${i}.dueDate`]}
                    onChange={(e) => {
                      setMilestones(milestones.map((m) => (m.key === row.key ? { ...m, dueDate: e.target.value } : m)));
                      clearError(`milestones.${i}.dueDate`);
                    }}
                  />
                  <div className={s.rowRemove}>
                    <Button
                      variant="secondary"
                      small
                      onClick={() => {
                        setMilestones(milestones.filter((m) => m.key !== row.key));
                        dropRowErrors("milestones", i);
                      }}
                    >
                      Remove milestone {i + 1}
                    </Button>
                  </div>
                </div>
              ))}
              {milestones.length === 0 && <Empty>No milestones yet.</Empty>}
              <Button variant="secondary" onClick={() => setMilestones([...milestones, newMilestone()])}>
                Add milestone
              </Button>
            </fieldset>
          </Card>
          <div className={s.formActions}>
            <Button type="submit" busy={create.isPending}>
              Create project
            </Button>
            <ButtonLink to="/production" variant="ghost">
              Cancel
            </ButtonLink>
          </div>
        </div>
      </form>
    </>
  );
}

function PitchPicker({
  chosen,
  loadingUrlPitch,
  urlPitchError,
  error,
  onChoose,
  onClear,
}: {
  chosen: ChosenPitch | null;
  loadingUrlPitch: boolean;
  urlPitchError: unknown;
  error: string | undefined;
  onChoose: (p: ChosenPitch) => void;
  onClear: () => void;
}) {
  const [text, setText] = useState("");
  const [q, setQ] = useState("");
  useEffect(() => {
    const t = setTimeout(() => setQ(text.trim()), 250);
    return () => clearTimeout(t);
  }, [text]);
  const results = useQuery({
    queryKey: keys.browse({ q, limit: "8", picker: "production" }),
    queryFn: () =>
      unwrapPage(
        api.GET("/api/pitches/browse", {
          params: { query: { q: q || undefined, limit: 8, sort: q ? "relevance" : "newest" } },
        }),
      ),
    enabled: !chosen,
    placeholderData: (prev) => prev,
  });

  return (
    <Card aria-labelledby="pf-pitch">
      <h2 id="pf-pitch">Pitch</h2>
      {error && <Alert>{error}</Alert>}
      {loadingUrlPitch ? (
        <Loading label="Loading the pitch…" />
      ) : chosen ? (
        <div className={s.chosen} id={fieldId("pitchId")} tabIndex={-1}>
          <div>
            <div className={`${s.muted} ${s.small}`}>From the pitch</div>
            <strong>{chosen.title}</strong>
            {chosen.genre && <span className={s.muted}> · {chosen.genre}</span>}
          </div>
          <Button small variant="secondary" onClick={onClear}>
            Change pitch
          </Button>
        </div>
      ) : (
        <>
          {urlPitchError !== null && (
            <Alert kind="warn">That pitch cannot be used: {errorMessage(urlPitchError)} Pick another below.</Alert>
          )}
          <TextField
            id={fieldId("pitchId")}
            label="Search published pitches"
            type="search"
            value={text}
            hint="Title, logline or genre. Optional: a project may start without a pitch."
            onChange={(e) => setText(e.target.value)}
          />
          {results.isPending ? (
            <Loading label="Searching…" />
          ) : results.isError ? (
            <ErrorState error={results.error} retry={() => void results.refetch()} />
          ) : results.data.items.length === 0 ? (
            <Empty>{q ? `No published pitch matches "${q}".` : "No published pitches yet."}</Empty>
          ) : (
            <ul className={s.pitchResults} aria-label="Published pitches" aria-busy={results.isPlaceholderData || undefined}>
              {results.data.items.map((p) => (
                <li key={p.id} className={s.pitchOption}>
                  <span>
                    <strong>{p.title}</strong>
                    {p.genre && <span className={s.muted}> · {p.genre}</span>}
                    {p.logline && <span className={`${s.muted} ${s.small} ${s.block}`}>{p.logline}</span>}
                  </span>
                  <Button small variant="secondary" aria-label={`Use this pitch: ${p.title}`} onClick={() => onChoose(p)}>
                    Use this pitch
                  </Button>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </Card>
  );
}
