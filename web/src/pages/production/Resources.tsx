// /production/resources: crew, equipment and locations with a cost per day; booking one on a project
// for dates (a double booking is refused by the server with 409, shown here in its words); the
// bookings of every resource on a month calendar. A booking's cost lands on the project's budget
// line of the resource's kind, so the projects' figures are refetched after each change.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { api, ApiError, errorMessage, unwrap, type Schemas } from "../../api/client";
import { keys } from "../../api/keys";
import { formatMoney, parseMoney } from "../../lib/format";
import {
  Alert,
  Badge,
  Button,
  Card,
  Empty,
  ErrorState,
  Loading,
  PageHeader,
  Select,
  TextArea,
  TextField,
  layout,
} from "../../ui";
import { AllocationCalendar, type CalendarBooking } from "./AllocationCalendar";
import s from "./production.module.css";
import { errorsByPath, formatDay, todayIso, unwrapPage, useDocumentTitle } from "./shared";
import t from "./team.module.css";

type Resource = Schemas["ResourceOut"];
type Kind = Schemas["ResourceCreate"]["kind"];

const KIND_OPTIONS: { value: Kind; label: string }[] = [
  { value: "crew", label: "Crew" },
  { value: "equipment", label: "Equipment" },
  { value: "location", label: "Location" },
];
const KIND_LABEL: Record<string, string> = { crew: "Crew", equipment: "Equipment", location: "Location" };

function parseCost(input: string): { value: string } | { error: string } {
  const v = input.trim();
  if (/^0+(\.0{1,2})?$/.test(v)) return { value: "0" };
  return parseMoney(v);
}

export default function Resources() {
  useDocumentTitle("Resources");
  // Your company's resources, or those of a company whose team you are on.
  const [companyId, setCompanyId] = useState<number | null>(null);
  const team = useQuery({
    queryKey: keys.team(null),
    queryFn: () => unwrap(api.GET("/api/production/team", { params: { query: {} } })),
  });
  const teams = (team.data?.memberships ?? []).filter((m) => m.status === "active");
  const q = useQuery({
    queryKey: keys.resourcesOf(companyId),
    queryFn: () =>
      unwrap(api.GET("/api/production/resources", { params: { query: companyId ? { companyId } : {} } })),
  });
  const own = useQuery({
    queryKey: keys.projectList({ limit: "100" }),
    queryFn: () => unwrapPage(api.GET("/api/production/projects", { params: { query: { limit: 100 } } })),
    enabled: companyId === null,
  });
  const theirs = useQuery({
    queryKey: keys.teamProjects,
    queryFn: () => unwrap(api.GET("/api/production/team/projects")),
    enabled: companyId !== null,
  });
  const projectChoices =
    companyId === null
      ? (own.data?.items ?? []).filter((p) => p.stage !== "completed").map((p) => ({ id: p.id, title: p.title }))
      : (theirs.data ?? [])
          .filter((p) => p.companyId === companyId && p.archivedAt === null)
          .map((p) => ({ id: p.id, title: p.title }));
  const projectsError = companyId === null ? own.error : theirs.error;
  const today = todayIso();

  const bookings: CalendarBooking[] = (q.data ?? []).flatMap((r) =>
    r.allocations.map((a) => ({
      id: a.id,
      startDate: a.startDate,
      endDate: a.endDate,
      kind: r.kind,
      label: `${r.name} — ${a.projectTitle}`,
    })),
  );

  return (
    <>
      <PageHeader title="Resources" />
      {teams.length > 0 && (
        <div className={s.filters}>
          <Select
            id="res-company"
            label="Whose resources"
            value={String(companyId ?? "")}
            onChange={(e) => setCompanyId(e.target.value ? Number(e.target.value) : null)}
            options={[
              { value: "", label: "Your company" },
              ...teams.map((m) => ({ value: String(m.companyId), label: m.companyName || m.companyUsername || `Company ${m.companyId}` })),
            ]}
          />
        </div>
      )}
      {q.isPending ? (
        <Loading label="Loading resources…" />
      ) : q.isError ? (
        <ErrorState error={q.error} retry={() => void q.refetch()} />
      ) : (
        <div className={layout.stack}>
          <Card aria-labelledby="calendar-heading">
            <h2 id="calendar-heading">Bookings calendar</h2>
            {bookings.length === 0 ? (
              <Empty>No resource is booked yet. Book one on a project below.</Empty>
            ) : (
              <AllocationCalendar bookings={bookings} today={today} />
            )}
          </Card>
          <div className={s.columns}>
            <div className={layout.stack}>
              {q.data.length === 0 ? (
                <Card>
                  <h2>Your resources</h2>
                  <Empty>No crew, equipment or locations yet. Add the first with the form.</Empty>
                </Card>
              ) : (
                q.data.map((r) => (
                  <ResourceCard key={r.id} resource={r} projects={projectChoices} projectsError={projectsError} />
                ))
              )}
            </div>
            <AddResource companyId={companyId} />
          </div>
        </div>
      )}
    </>
  );
}

function AddResource({ companyId }: { companyId: number | null }) {
  const qc = useQueryClient();
  const [kind, setKind] = useState<Kind>("crew");
  const [name, setName] = useState("");
  const [cost, setCost] = useState("");
  const [notes, setNotes] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [done, setDone] = useState<string | null>(null);
  const add = useMutation({
    mutationFn: (body: Schemas["ResourceCreate"]) =>
      unwrap(api.POST("/api/production/resources", { body, params: { query: companyId ? { companyId } : {} } })),
    onSuccess: (r) => {
      setDone(`Added ${r.name}.`);
      setName("");
      setCost("");
      setNotes("");
      setErrors({});
      void qc.invalidateQueries({ queryKey: keys.resources });
    },
    onError: (err) => setErrors(err instanceof ApiError ? err.fieldErrors() : {}),
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    setDone(null);
    const errs: Record<string, string> = {};
    if (!name.trim()) errs.name = "Enter a name.";
    const parsed = parseCost(cost);
    if ("error" in parsed) errs.costPerDay = parsed.error;
    setErrors(errs);
    if (Object.keys(errs).length) {
      document.getElementById(errs.name ? "res-name" : "res-cost")?.focus();
      return;
    }
    add.mutate({ kind, name: name.trim(), costPerDay: "value" in parsed ? parsed.value : cost, notes: notes.trim() || null });
  }

  const other = add.error && !Object.keys(errors).length ? errorMessage(add.error) : null;
  return (
    <Card aria-labelledby="add-resource-heading">
      <h2 id="add-resource-heading">Add a resource</h2>
      <form onSubmit={submit} noValidate>
        <Select id="res-kind" label="Kind" value={kind} onChange={(e) => setKind(e.target.value as Kind)} options={KIND_OPTIONS} error={errors.kind} />
        <TextField id="res-name" label="Name" value={name} onChange={(e) => setName(e.target.value)} error={errors.name} maxLength={200} required />
        <TextField
          id="res-cost"
          label="Cost per day (USD)"
          inputMode="decimal"
          value={cost}
          onChange={(e) => setCost(e.target.value)}
          error={errors.costPerDay}
          hint="Up to two decimals, e.g. 750.50"
          required
        />
        <TextArea id="res-notes" label="Notes (optional)" value={notes} onChange={(e) => setNotes(e.target.value)} error={errors.notes} maxLength={2000} rows={2} />
        {other && <Alert kind="error">{other}</Alert>}
        {done && <Alert kind="success">{done}</Alert>}
        <Button type="submit" busy={add.isPending}>
          Add resource
        </Button>
      </form>
    </Card>
  );
}

function ResourceCard({
  resource: r,
  projects,
  projectsError,
}: {
  resource: Resource;
  projects: { id: number; title: string }[];
  projectsError: unknown;
}) {
  const qc = useQueryClient();
  const open = projects;
  const [chosen, setChosen] = useState("");
  const projectId = open.some((p) => String(p.id) === chosen) ? chosen : String(open[0]?.id ?? "");
  const [start, setStart] = useState("");
  const [end, setEnd] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [done, setDone] = useState<string | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const headingId = `res-${r.id}-heading`;

  const refresh = () => {
    void qc.invalidateQueries({ queryKey: keys.resources });
    void qc.invalidateQueries({ queryKey: keys.projects });
    void qc.invalidateQueries({ queryKey: keys.analytics });
  };
  const book = useMutation({
    mutationFn: (body: Schemas["AllocationCreate"]) =>
      unwrap(api.POST("/api/production/resources/{id}/allocations", { params: { path: { id: r.id } }, body })),
    onSuccess: (a) => {
      setDone(`Booked for ${a.days} day${a.days > 1 ? "s" : ""} on ${a.projectTitle}: ${formatMoney(a.cost)} added to its budget.`);
      setErrors({});
      refresh();
    },
    onError: (err) => {
      const byPath = errorsByPath(err);
      const known: Record<string, string> = {};
      for (const k of ["projectId", "startDate", "endDate"]) if (byPath[k]) known[k] = byPath[k];
      setErrors(known);
    },
  });
  const unbook = useMutation({
    mutationFn: (allocationId: number) =>
      unwrap(
        api.DELETE("/api/production/resources/{id}/allocations/{allocationId}", {
          params: { path: { id: r.id, allocationId } },
        }),
      ),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/production/resources/{id}", { params: { path: { id: r.id } } })),
    onSuccess: refresh,
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    setDone(null);
    const errs: Record<string, string> = {};
    if (!projectId) errs.projectId = "Choose a project.";
    if (!start) errs.startDate = "Choose the first day.";
    if (!end) errs.endDate = "Choose the last day.";
    else if (start && end < start) errs.endDate = "The last day cannot be before the first.";
    setErrors(errs);
    if (Object.keys(errs).length) {
      const first = errs.projectId ? "project" : errs.startDate ? "start" : "end";
      document.getElementById(`book-${r.id}-${first}`)?.focus();
      return;
    }
    book.mutate({ projectId: Number(projectId), startDate: start, endDate: end });
  }

  const conflict = book.error instanceof ApiError && book.error.status === 409;
  const other = book.error && !Object.keys(errors).length ? errorMessage(book.error) : null;
  return (
    <Card aria-labelledby={headingId}>
      <div className={s.sectionHead}>
        <h2 id={headingId} className={s.cardTitle}>
          {r.name}
        </h2>
        <span className={s.badges}>
          <Badge tone="primary">{KIND_LABEL[r.kind] ?? r.kind}</Badge>
          <Badge>{formatMoney(r.costPerDay)} a day</Badge>
        </span>
      </div>
      {r.notes && <p className={`${s.muted} ${s.small}`}>{r.notes}</p>}
      <h3 className={t.subhead}>Bookings</h3>
      {r.allocations.length === 0 ? (
        <p className={`${s.muted} ${s.small}`}>Not booked.</p>
      ) : (
        <ul className={s.plainList} aria-label={`Bookings of ${r.name}`}>
          {r.allocations.map((a) => (
            <li key={a.id} className={s.milestone}>
              <span>
                <Link to={`/production/projects/${a.projectId}`}>{a.projectTitle}</Link>: {formatDay(a.startDate)} –{" "}
                {formatDay(a.endDate)} ({a.days} day{a.days > 1 ? "s" : ""}, {formatMoney(a.cost)})
              </span>
              <Button small variant="ghost" busy={unbook.isPending && unbook.variables === a.id} onClick={() => unbook.mutate(a.id)}>
                Remove booking<span className="visually-hidden"> of {r.name} from {formatDay(a.startDate)}</span>
              </Button>
            </li>
          ))}
        </ul>
      )}
      {unbook.isError && <Alert kind="error">{errorMessage(unbook.error)}</Alert>}
      <form onSubmit={submit} noValidate aria-label={`Book ${r.name}`} className={t.bookForm}>
        <h3 className={t.subhead}>Book {r.name}</h3>
        {projectsError ? (
          <ErrorState error={projectsError} />
        ) : open.length === 0 ? (
          <p className={`${s.muted} ${s.small}`}>
            Start a project first: bookings are made on projects. <Link to="/production/projects/new">New project</Link>
          </p>
        ) : (
          <>
            <Select
              id={`book-${r.id}-project`}
              label="Project"
              value={projectId}
              onChange={(e) => setChosen(e.target.value)}
              options={open.map((p) => ({ value: String(p.id), label: p.title }))}
              error={errors.projectId}
            />
            <div className={s.formGrid}>
              <TextField id={`book-${r.id}-start`} label="First day" type="date" value={start} onChange={(e) => setStart(e.target.value)} error={errors.startDate} required />
              <TextField id={`book-${r.id}-end`} label="Last day" type="date" value={end} min={start || undefined} onChange={(e) => setEnd(e.target.value)} error={errors.endDate} required />
            </div>
            {other && (
              <Alert kind="error">
                {conflict ? <strong>Not booked: </strong> : null}
                {other}
              </Alert>
            )}
            {done && <Alert kind="success">{done}</Alert>}
            <Button type="submit" busy={book.isPending}>
              Book {r.name}
            </Button>
          </>
        )}
      </form>
      <div className={t.dangerRow}>
        {confirmDelete ? (
          <span className={s.badges}>
            <Button small variant="danger" busy={remove.isPending} onClick={() => remove.mutate()}>
              Delete {r.name} now
            </Button>
            <Button small variant="ghost" onClick={() => setConfirmDelete(false)}>
              Keep it
            </Button>
          </span>
        ) : (
          <Button small variant="ghost" onClick={() => setConfirmDelete(true)}>
            Delete resource<span className="visually-hidden"> {r.name}</span>
          </Button>
        )}
        {remove.isError && <Alert kind="error">{errorMessage(remove.error)}</Alert>}
      </div>
    </Card>
  );
}
