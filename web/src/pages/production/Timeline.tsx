// /production/projects/:id/timeline: the project's phases as a Gantt chart (CSS grid: one column
// per day, a bar per phase, milestones as markers), the same figures as a table, and a form that
// sets, moves and removes phases. The server moves dependents along (finish-to-start) and refuses
// cycles in words; the answer replaces the cached timeline at once.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useParams } from "react-router";
import { api, ApiError, errorMessage, unwrap, type Schemas } from "../../api/client";
import { keys } from "../../api/keys";
import { Alert, Badge, ButtonLink, Button, Card, Checkbox, Empty, ErrorState, Loading, PageHeader, TextField, layout } from "../../ui";
import s from "./production.module.css";
import { formatDay, useDocumentTitle } from "./shared";
import { TeamHere } from "./ProjectLive";
import t from "./team.module.css";

type TimelineData = Schemas["TimelineOut"];
type PhaseName = Schemas["PhaseIn"]["phase"];

export const PHASES: readonly PhaseName[] = ["development", "pre_production", "shooting", "post", "distribution"];
export const PHASE_LABEL: Record<PhaseName, string> = {
  development: "Development",
  pre_production: "Pre-production",
  shooting: "Shooting",
  post: "Post-production",
  distribution: "Distribution",
};

function dayNumber(iso: string): number {
  const [y, m, d] = iso.split("-").map(Number);
  return Math.round(Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1) / 86_400_000);
}

function isoOf(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

// "Feb 2027" where the chart starts and at each January, "Mar" elsewhere: never "Feb 27", which
// reads as a day.
// Who may change the timeline (server/routes/_team.py); others read it.
const EDITORS = new Set(["owner", "producer", "coordinator"]);

const monthYear = new Intl.DateTimeFormat("en-US", { month: "short", year: "numeric", timeZone: "UTC" });
const monthOnly = new Intl.DateTimeFormat("en-US", { month: "short", timeZone: "UTC" });

export default function Timeline() {
  const { id: raw } = useParams();
  const id = Number.parseInt(raw ?? "", 10);
  const valid = Number.isFinite(id) && id > 0;
  const q = useQuery({
    queryKey: keys.timeline(valid ? id : 0),
    queryFn: () => unwrap(api.GET("/api/production/projects/{id}/timeline", { params: { path: { id } } })),
    enabled: valid,
  });
  useDocumentTitle(q.data ? `Timeline · ${q.data.title}` : "Timeline");

  const back = (
    <ButtonLink to={valid ? `/production/projects/${id}` : "/production"} variant="secondary">
      Back to the project
    </ButtonLink>
  );
  if (!valid || q.isError) {
    const notFound = !valid || (q.error instanceof ApiError && q.error.status === 404);
    return (
      <>
        <PageHeader title={notFound ? "Project not found" : "Timeline"}>{back}</PageHeader>
        {notFound ? <Alert kind="error">There is no project of yours at this address.</Alert> : <ErrorState error={q.error} retry={() => void q.refetch()} />}
      </>
    );
  }
  if (q.isPending) return <Loading label="Loading the timeline…" />;
  const tl = q.data;
  const overdue = tl.phases.filter((p) => p.overdue);
  return (
    <>
      <PageHeader title={`Timeline: ${tl.title}`}>{back}</PageHeader>
      <TeamHere projectId={tl.projectId} />
      <div className={layout.stack}>
        {overdue.length > 0 && (
          <Alert kind="warn">
            Overdue: {overdue.map((p) => `${PHASE_LABEL[p.phase as PhaseName] ?? p.phase} (ended ${formatDay(p.endDate)})`).join(", ")}.
          </Alert>
        )}
        <Card aria-labelledby="gantt-heading">
          <h2 id="gantt-heading">Phases</h2>
          {tl.phases.length === 0 ? (
            <Empty>No phases yet. Set their dates with the form below.</Empty>
          ) : (
            <>
              <Gantt timeline={tl} />
              <PhaseTable timeline={tl} />
            </>
          )}
        </Card>
        {EDITORS.has(tl.role) ? (
          <EditTimeline timeline={tl} />
        ) : (
          <Alert kind="info">
            As the team’s {tl.role}, you read the timeline; the owner, producers and coordinators change it.
          </Alert>
        )}
      </div>
    </>
  );
}

function Gantt({ timeline: tl }: { timeline: TimelineData }) {
  const dated = tl.milestones.filter((m) => m.dueDate);
  const starts = [...tl.phases.map((p) => dayNumber(p.startDate)), ...dated.map((m) => dayNumber(m.dueDate ?? ""))];
  const ends = [...tl.phases.map((p) => dayNumber(p.endDate)), ...dated.map((m) => dayNumber(m.dueDate ?? ""))];
  const first = Math.min(...starts);
  const last = Math.max(...ends);
  const span = last - first + 1;
  const col = (iso: string) => dayNumber(iso) - first + 1;
  // Month labels: where each month starts inside the span.
  const months: { label: string; at: number }[] = [];
  for (let d = first; d <= last; d++) {
    const date = isoOf(d);
    if (d === first || date.endsWith("-01")) {
      const when = new Date(`${date}T00:00:00Z`);
      const label = d === first || date.endsWith("-01-01") ? monthYear.format(when) : monthOnly.format(when);
      months.push({ label, at: d - first + 1 });
    }
  }
  const grid = { gridTemplateColumns: `repeat(${span}, minmax(0, 1fr))` };
  return (
    <figure className={t.gantt} aria-hidden="true">
      <div className={t.ganttRow}>
        <span className={t.ganttLabel} />
        <div className={t.ganttTrack} style={grid}>
          {months.map((m) => (
            <span key={m.at} className={t.ganttMonth} style={{ gridColumn: `${m.at} / span ${Math.min(30, span - m.at + 1)}` }}>
              {m.label}
            </span>
          ))}
        </div>
      </div>
      {tl.phases.map((p) => (
        <div key={p.phase} className={t.ganttRow}>
          <span className={t.ganttLabel}>{PHASE_LABEL[p.phase as PhaseName] ?? p.phase}</span>
          <div className={t.ganttTrack} style={grid}>
            <span
              className={`${t.ganttBar} ${p.overdue ? t.ganttOverdue : p.done ? t.ganttDone : ""}`}
              style={{ gridColumn: `${col(p.startDate)} / ${col(p.endDate) + 1}` }}
              title={`${formatDay(p.startDate)} – ${formatDay(p.endDate)}`}
            />
          </div>
        </div>
      ))}
      {dated.length > 0 && (
        <div className={t.ganttRow}>
          <span className={t.ganttLabel}>Milestones</span>
          <div className={t.ganttTrack} style={grid}>
            {dated.map((m) => (
              <span
                key={m.id}
                className={`${t.ganttMilestone} ${m.done ? t.ganttDone : ""}`}
                style={{ gridColumn: `${col(m.dueDate ?? "")} / span 1` }}
                title={`${m.title}: ${formatDay(m.dueDate)}`}
              />
            ))}
          </div>
        </div>
      )}
      <figcaption className={`${s.muted} ${s.small}`}>Phases and milestones over time; the table lists the same dates.</figcaption>
    </figure>
  );
}

function PhaseTable({ timeline: tl }: { timeline: TimelineData }) {
  return (
    <div className={layout.tableWrap}>
      <table className={`${layout.table} ${s.cardTable}`} aria-label="Phases with their dates">
        <thead>
          <tr>
            <th scope="col">Phase</th>
            <th scope="col">Starts</th>
            <th scope="col">Ends</th>
            <th scope="col">After</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {tl.phases.map((p) => (
            <tr key={p.phase} className={p.overdue ? s.overRow : undefined}>
              <th scope="row">{PHASE_LABEL[p.phase as PhaseName] ?? p.phase}</th>
              <td data-label="Starts">{formatDay(p.startDate)}</td>
              <td data-label="Ends">{formatDay(p.endDate)}</td>
              <td data-label="After">{p.dependsOn.map((d) => PHASE_LABEL[d as PhaseName] ?? d).join(", ") || "—"}</td>
              <td data-label="Status">
                {p.done ? <Badge tone="success">Done</Badge> : p.overdue ? <Badge tone="danger">Overdue</Badge> : <Badge>Open</Badge>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {tl.milestones.length > 0 && (
        <>
          <h3 className={t.subhead}>Milestones</h3>
          <ul className={s.plainList}>
            {tl.milestones.map((m) => (
              <li key={m.id}>
                <span className={m.done ? s.done : undefined}>{m.title}</span>{" "}
                <span className={`${s.muted} ${s.small}`}>
                  {m.dueDate ? formatDay(m.dueDate) : "no date"}
                  {m.phase ? ` · during ${PHASE_LABEL[m.phase as PhaseName] ?? m.phase}` : ""}
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

/** The server's sentence with phase names as people say them ("pre_production" → "Pre-production"). */
function inWords(message: string): string {
  return message
    .replace(/^phases[.\w]*: (Value error, )?/, "")
    .replace(/\b(development|pre_production|shooting|post|distribution)\b/g, (m) => PHASE_LABEL[m as PhaseName]);
}

interface Draft {
  on: boolean;
  startDate: string;
  endDate: string;
  dependsOn: PhaseName[];
  done: boolean;
}

function draftsOf(tl: TimelineData): Record<PhaseName, Draft> {
  const out = {} as Record<PhaseName, Draft>;
  PHASES.forEach((name, i) => {
    const p = tl.phases.find((x) => x.phase === name);
    const prev = PHASES[i - 1];
    out[name] = p
      ? { on: true, startDate: p.startDate, endDate: p.endDate, dependsOn: p.dependsOn as PhaseName[], done: p.done }
      : { on: false, startDate: "", endDate: "", dependsOn: prev && tl.phases.some((x) => x.phase === prev) ? [prev] : [], done: false };
  });
  return out;
}

function EditTimeline({ timeline: tl }: { timeline: TimelineData }) {
  const qc = useQueryClient();
  const [drafts, setDrafts] = useState(() => draftsOf(tl));
  // A change from elsewhere (live, or this form's own save) refreshes the form unless the person
  // has started typing in it: what was typed is never overwritten.
  const [touched, setTouched] = useState(false);
  const [shown, setShown] = useState(tl);
  if (tl !== shown) {
    setShown(tl);
    if (!touched) setDrafts(draftsOf(tl));
  }
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [done, setDone] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (body: Schemas["TimelineUpdate"]) =>
      unwrap(api.PUT("/api/production/projects/{id}/timeline", { params: { path: { id: tl.projectId } }, body })),
    onSuccess: (next) => {
      qc.setQueryData(keys.timeline(tl.projectId), next);
      void qc.invalidateQueries({ queryKey: keys.analytics });
      setDrafts(draftsOf(next));
      setTouched(false);
      setErrors({});
      setDone("Timeline saved. Phases that follow a moved one moved with it.");
    },
  });
  const set = (name: PhaseName, patch: Partial<Draft>) => {
    setTouched(true);
    setDrafts((d) => ({ ...d, [name]: { ...d[name], ...patch } }));
  };

  function submit(e: FormEvent) {
    e.preventDefault();
    setDone(null);
    const errs: Record<string, string> = {};
    for (const name of PHASES) {
      const d = drafts[name];
      if (!d.on) continue;
      if (!d.startDate) errs[`${name}.start`] = "Choose the first day.";
      if (!d.endDate) errs[`${name}.end`] = "Choose the last day.";
      else if (d.startDate && d.endDate < d.startDate) errs[`${name}.end`] = "The last day cannot be before the first.";
    }
    setErrors(errs);
    const firstBad = Object.keys(errs)[0];
    if (firstBad) {
      document.getElementById(`tl-${firstBad.replace(".", "-")}`)?.focus();
      return;
    }
    const phases = PHASES.filter((n) => drafts[n].on).map((n) => ({
      phase: n,
      startDate: drafts[n].startDate,
      endDate: drafts[n].endDate,
      dependsOn: drafts[n].dependsOn.filter((dep) => drafts[dep].on),
      done: drafts[n].done,
    }));
    const remove = PHASES.filter((n) => !drafts[n].on && tl.phases.some((p) => p.phase === n));
    save.mutate({ phases, remove });
  }

  return (
    <Card aria-labelledby="edit-timeline-heading">
      <h2 id="edit-timeline-heading">Set the phases</h2>
      <p className={`${s.muted} ${s.small}`}>
        A phase starts after the phases it follows have ended. Moving a phase moves the phases that follow it.
      </p>
      <form onSubmit={submit} noValidate>
        {PHASES.map((name) => {
          const d = drafts[name];
          return (
            <fieldset key={name} className={t.phaseSet}>
              <legend>{PHASE_LABEL[name]}</legend>
              <Checkbox label={`${PHASE_LABEL[name]} is on the timeline`} checked={d.on} onChange={(e) => set(name, { on: e.target.checked })} />
              {d.on && (
                <>
                  <div className={s.formGrid}>
                    <TextField id={`tl-${name}-start`} label={`${PHASE_LABEL[name]} starts`} type="date" value={d.startDate} onChange={(e) => set(name, { startDate: e.target.value })} error={errors[`${name}.start`]} />
                    <TextField id={`tl-${name}-end`} label={`${PHASE_LABEL[name]} ends`} type="date" value={d.endDate} min={d.startDate || undefined} onChange={(e) => set(name, { endDate: e.target.value })} error={errors[`${name}.end`]} />
                  </div>
                  <div className={t.depRow} role="group" aria-label={`${PHASE_LABEL[name]} follows`}>
                    <span className={`${s.muted} ${s.small}`}>Follows:</span>
                    {PHASES.filter((o) => o !== name && drafts[o].on).length === 0 && (
                      <span className={`${s.muted} ${s.small}`}>no other phase is on the timeline</span>
                    )}
                    {PHASES.filter((o) => o !== name && drafts[o].on).map((o) => (
                      <Checkbox
                        key={o}
                        label={PHASE_LABEL[o]}
                        checked={d.dependsOn.includes(o)}
                        onChange={(e) => set(name, { dependsOn: e.target.checked ? [...d.dependsOn, o] : d.dependsOn.filter((x) => x !== o) })}
                      />
                    ))}
                  </div>
                  <Checkbox label={`${PHASE_LABEL[name]} is done`} checked={d.done} onChange={(e) => set(name, { done: e.target.checked })} />
                </>
              )}
            </fieldset>
          );
        })}
        {save.isError && (
          <Alert kind="error">
            <strong>Not saved: </strong>
            {save.error instanceof ApiError && save.error.code === "VALIDATION_ERROR" ? inWords(save.error.message) : errorMessage(save.error)}
          </Alert>
        )}
        {done && <Alert kind="success">{done}</Alert>}
        <Button type="submit" busy={save.isPending}>
          Save timeline
        </Button>
      </form>
    </Card>
  );
}
