// /production/projects/:id: the budget (allocated vs spent per line, over-budget flagged), recording
// an expense (the budget updates from the answer at once, then the dependent queries refetch), the
// expenses, milestones (done / add) and editing the project.
import { useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useState, type FormEvent } from "react";
import { Link, useParams } from "react-router";
import { api, ApiError, errorMessage, unwrap, type Schemas } from "../../api/client";
import { keys } from "../../api/keys";
import { formatDate, formatMoney } from "../../lib/format";
import {
  Alert,
  Badge,
  Button,
  ButtonLink,
  Card,
  Checkbox,
  Empty,
  ErrorState,
  Loading,
  PageHeader,
  Select,
  Stat,
  TextField,
  layout,
} from "../../ui";
import { ProjectLifecycle } from "./ProjectLifecycle";
import { fromCents, isNegative, parseAmount, percentOf, toCents } from "./money";
import s from "./production.module.css";
import {
  errorsByPath,
  formatDay,
  Pager,
  SpendBar,
  STAGE_OPTIONS,
  StageBadge,
  todayIso,
  unwrapPage,
  useDocumentTitle,
  type BudgetLine,
  type Project,
  type Stage,
} from "./shared";

const BudgetChart = lazy(() => import("./BudgetChart"));
const SpendChart = lazy(() => import("./SpendChart"));
const EXPENSES_PAGE = 10;

/** After anything that changes a project's money or milestones: every view that shows them. */
function refreshAfterChange(qc: QueryClient, project: Project) {
  qc.setQueryData(keys.project(project.id), project);
  void qc.invalidateQueries({ queryKey: keys.projects, predicate: (q) => q.queryKey[1] !== project.id });
  void qc.invalidateQueries({ queryKey: keys.project(project.id), predicate: (q) => q.queryKey.length > 2 });
  void qc.invalidateQueries({ queryKey: keys.analytics });
}

export default function ProjectDetail() {
  const { id: raw } = useParams();
  const id = Number.parseInt(raw ?? "", 10);
  const valid = Number.isFinite(id) && id > 0;
  const q = useQuery({
    queryKey: keys.project(valid ? id : 0),
    queryFn: () => unwrap(api.GET("/api/production/projects/{id}", { params: { path: { id } } })),
    enabled: valid,
  });
  const [editing, setEditing] = useState(false);
  useDocumentTitle(q.data?.title ?? (q.isError ? "Project" : null));

  if (!valid)
    return (
      <Card>
        <h1>Project not found</h1>
        <p>There is no project at this address.</p>
        <ButtonLink to="/production">Back to projects</ButtonLink>
      </Card>
    );
  if (q.isPending) return <Loading label="Loading the project…" />;
  if (q.isError) {
    const notFound = q.error instanceof ApiError && q.error.status === 404;
    return (
      <>
        <PageHeader title={notFound ? "Project not found" : "Project"}>
          <ButtonLink to="/production" variant="secondary">
            Back to projects
          </ButtonLink>
        </PageHeader>
        <ErrorState error={q.error} retry={notFound ? undefined : () => void q.refetch()} />
      </>
    );
  }
  const p = q.data;
  const t = p.totals;
  return (
    <>
      <PageHeader title={p.title}>
        <StageBadge stage={p.stage} />
        {t.overBudget && <Badge tone="danger">Over budget</Badge>}
        <Button
          id="edit-project-toggle"
          variant="secondary"
          aria-expanded={editing}
          onClick={() => {
            setEditing(!editing);
            if (!editing) requestAnimationFrame(() => document.getElementById("ed-title")?.focus());
          }}
        >
          {editing ? "Close editing" : "Edit project"}
        </Button>
        <ButtonLink to="/production" variant="ghost">
          All projects
        </ButtonLink>
      </PageHeader>
      {editing && (
        <EditProject
          project={p}
          onDone={() => {
            setEditing(false);
            // The form is gone: back to the button that opened it.
            requestAnimationFrame(() => document.getElementById("edit-project-toggle")?.focus());
          }}
        />
      )}
      <div className={s.stats} role="group" aria-label="Budget totals">
        <Stat label="Budget" value={formatMoney(t.budget)} />
        <Stat label="Allocated to lines" value={formatMoney(t.allocated)} />
        <Stat label="Spent" value={formatMoney(t.spent)} />
        <Stat
          label="Remaining"
          value={<span className={isNegative(t.remaining) ? s.over : undefined}>{formatMoney(t.remaining)}</span>}
        />
        <Stat
          label="Unallocated"
          value={<span className={isNegative(t.unallocated) ? s.over : undefined}>{formatMoney(t.unallocated)}</span>}
        />
      </div>
      <div className={s.columns}>
        <div className={layout.stack}>
          <BudgetView project={p} />
          <RecordExpense project={p} />
          <Expenses project={p} />
          <SpendOverTime project={p} />
        </div>
        <div className={layout.stack}>
          <Milestones project={p} />
          <About project={p} />
          <ProjectLifecycle projectId={p.id} title={p.title} />
        </div>
      </div>
    </>
  );
}

function BudgetView({ project: p }: { project: Project }) {
  return (
    <Card aria-labelledby="budget-heading">
      <h2 id="budget-heading">Budget</h2>
      {p.budgetLines.length === 0 ? (
        <Empty>No budget lines yet. Add them with “Edit project”.</Empty>
      ) : (
        <>
          <figure style={{ margin: "0 0 16px" }}>
            <div aria-hidden="true">
              <Suspense fallback={<div className={s.chart} />}>
                <BudgetChart lines={p.budgetLines} />
              </Suspense>
            </div>
            <figcaption className={`${s.muted} ${s.small}`}>
              Allocated and spent per budget line. The table below lists the same figures.
            </figcaption>
          </figure>
          <div className={layout.tableWrap}>
            <table className={`${layout.table} ${s.cardTable}`} aria-label="Allocated and spent per budget line">
              <thead>
                <tr>
                  <th scope="col">Line</th>
                  <th scope="col" className={s.num}>
                    Allocated
                  </th>
                  <th scope="col" className={s.num}>
                    Spent
                  </th>
                  <th scope="col" className={s.num}>
                    Remaining
                  </th>
                  <th scope="col">Used</th>
                </tr>
              </thead>
              <tbody>
                {p.budgetLines.map((l) => (
                  <LineRow key={l.id} line={l} />
                ))}
              </tbody>
              <tfoot>
                <tr>
                  <th scope="row">Total</th>
                  <td className={s.num} data-label="Allocated">
                    {formatMoney(p.totals.allocated)}
                  </td>
                  <td className={s.num} data-label="Spent">
                    {formatMoney(p.totals.spent)}
                  </td>
                  <td className={`${s.num} ${isNegative(p.totals.remaining) ? s.over : ""}`} data-label="Remaining">
                    {formatMoney(p.totals.remaining)}
                  </td>
                  <td className={`${s.small} ${s.wide}`}>of {formatMoney(p.totals.budget)} budget</td>
                </tr>
              </tfoot>
            </table>
          </div>
        </>
      )}
    </Card>
  );
}

/** "62%", "<1%" for a little spent, "—" for a line with nothing allocated. */
function usedText(pct: number | null, spent: string | number): string {
  if (pct === null) return (toCents(spent) ?? 0n) > 0n ? "over" : "—";
  if (pct === 0 && (toCents(spent) ?? 0n) > 0n) return "<1%";
  return `${pct}%`;
}

function LineRow({ line: l }: { line: BudgetLine }) {
  const pct = percentOf(l.spent, l.allocated);
  return (
    <tr className={l.overBudget ? s.overRow : undefined} data-line={l.category}>
      <th scope="row">
        {l.category}
        {l.overBudget && (
          <>
            {" "}
            <Badge tone="danger">Over budget</Badge>
          </>
        )}
      </th>
      <td className={s.num} data-label="Allocated">
        {formatMoney(l.allocated)}
      </td>
      <td className={s.num} data-label="Spent">
        {formatMoney(l.spent)}
      </td>
      <td className={`${s.num} ${isNegative(l.remaining) ? s.over : ""}`} data-label="Remaining">
        {formatMoney(l.remaining)}
      </td>
      <td className={s.wide} style={{ minWidth: 90 }}>
        <span className={s.small}>{usedText(pct, l.spent)}</span>
        <SpendBar spent={l.spent} allocated={l.allocated} />
      </td>
    </tr>
  );
}

function RecordExpense({ project: p }: { project: Project }) {
  const qc = useQueryClient();
  const [chosenLine, setLineId] = useState<string>("");
  // The first line until one is chosen (lines may be added after this form first showed).
  const lineId = p.budgetLines.some((l) => String(l.id) === chosenLine)
    ? chosenLine
    : String(p.budgetLines[0]?.id ?? "");
  const [amount, setAmount] = useState("");
  const [date, setDate] = useState("");
  const [note, setNote] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [done, setDone] = useState<string | null>(null);
  const today = todayIso();

  const record = useMutation({
    mutationFn: (body: Schemas["ExpenseCreate"]) =>
      unwrap(api.POST("/api/production/projects/{id}/expenses", { params: { path: { id: p.id } }, body })),
    onSuccess: (r) => {
      // The answer carries the line and totals as they are now: show them at once.
      const current = qc.getQueryData<Project>(keys.project(p.id)) ?? p;
      refreshAfterChange(qc, {
        ...current,
        totals: r.totals,
        budgetLines: current.budgetLines.map((l) => (l.id === r.budgetLine.id ? r.budgetLine : l)),
      });
      setDone(`Recorded ${formatMoney(r.expense.amount)} against ${r.budgetLine.category}.`);
      setAmount("");
      setNote("");
      setErrors({});
    },
    onError: (err) => {
      const byPath = errorsByPath(err);
      const known: Record<string, string> = {};
      for (const k of ["budgetLineId", "amount", "spentAt", "note"]) if (byPath[k]) known[k] = byPath[k];
      setErrors(known);
    },
  });

  if (p.budgetLines.length === 0) {
    return (
      <Card aria-labelledby="expense-heading">
        <h2 id="expense-heading">Record an expense</h2>
        <Empty>Expenses are recorded against a budget line: add one first with “Edit project”.</Empty>
      </Card>
    );
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    setDone(null);
    const errs: Record<string, string> = {};
    const parsed = parseAmount(amount);
    if ("error" in parsed) errs.amount = parsed.error;
    if (!lineId) errs.budgetLineId = "Choose the budget line this was spent on.";
    if (date && date > today) errs.spentAt = "The date cannot be in the future.";
    setErrors(errs);
    if (Object.keys(errs).length) {
      document.getElementById(errs.budgetLineId ? "exp-line" : errs.amount ? "exp-amount" : "exp-date")?.focus();
      return;
    }
    record.mutate({
      budgetLineId: Number(lineId),
      amount: "value" in parsed ? parsed.value : amount,
      note: note.trim() || null,
      // A past day is recorded at its noon UTC; today is "now" (the API refuses future instants).
      spentAt: date && date < today ? `${date}T12:00:00Z` : null,
    });
  }

  const otherError =
    record.error && !Object.keys(errors).length
      ? record.error instanceof ApiError && record.error.code === "VALIDATION_ERROR"
        ? record.error.message
        : errorMessage(record.error)
      : null;

  return (
    <Card aria-labelledby="expense-heading">
      <h2 id="expense-heading">Record an expense</h2>
      <form onSubmit={submit} noValidate>
        {otherError && <Alert>{otherError}</Alert>}
        {done && <Alert kind="success">{done}</Alert>}
        <div className={s.formGrid}>
          <Select
            id="exp-line"
            label="Budget line"
            value={lineId}
            error={errors.budgetLineId}
            onChange={(e) => setLineId(e.target.value)}
            options={p.budgetLines.map((l) => ({
              value: String(l.id),
              label: `${l.category} (${formatMoney(l.remaining)} left)`,
            }))}
          />
          <TextField
            id="exp-amount"
            label="Amount (USD)"
            inputMode="decimal"
            autoComplete="off"
            placeholder="1250.00"
            value={amount}
            error={errors.amount}
            onChange={(e) => {
              setAmount(e.target.value);
              setDone(null);
            }}
          />
          <TextField
            id="exp-date"
            label="Date spent"
            type="date"
            max={today}
            value={date}
            error={errors.spentAt}
            hint="Leave empty for today."
            onChange={(e) => setDate(e.target.value)}
          />
          <TextField
            id="exp-note"
            label="Note"
            maxLength={1000}
            value={note}
            error={errors.note}
            onChange={(e) => setNote(e.target.value)}
          />
        </div>
        <Button type="submit" busy={record.isPending}>
          Record expense
        </Button>
      </form>
    </Card>
  );
}

function Expenses({ project: p }: { project: Project }) {
  const [page, setPage] = useState(1);
  const q = useQuery({
    queryKey: keys.projectExpenses(p.id, page),
    queryFn: () =>
      unwrapPage(
        api.GET("/api/production/projects/{id}/expenses", {
          params: { path: { id: p.id }, query: { page, limit: EXPENSES_PAGE } },
        }),
      ),
    placeholderData: (prev) => prev,
  });
  const lineName = new Map(p.budgetLines.map((l) => [l.id, l.category]));
  return (
    <Card aria-labelledby="expenses-heading">
      <h2 id="expenses-heading">Expenses</h2>
      {q.isPending ? (
        <Loading label="Loading expenses…" />
      ) : q.isError ? (
        <ErrorState error={q.error} retry={() => void q.refetch()} />
      ) : q.data.items.length === 0 ? (
        <Empty>No expenses recorded yet.</Empty>
      ) : (
        <>
          <div className={layout.tableWrap}>
            <table className={`${layout.table} ${s.cardTable}`} aria-label="Expenses, latest first" aria-busy={q.isPlaceholderData || undefined}>
              <thead>
                <tr>
                  <th scope="col">Date</th>
                  <th scope="col">Line</th>
                  <th scope="col" className={s.num}>
                    Amount
                  </th>
                  <th scope="col">Note</th>
                </tr>
              </thead>
              <tbody>
                {q.data.items.map((x) => (
                  <tr key={x.id}>
                    <td style={{ whiteSpace: "nowrap" }} data-label="Date">
                      {formatDate(x.spentAt)}
                    </td>
                    <td data-label="Line">
                      {lineName.get(x.budgetLineId) ?? `Line ${x.budgetLineId}`}
                      {x.kind === "adjustment" && (
                        <>
                          {" "}
                          <Badge>Adjustment</Badge>
                        </>
                      )}
                    </td>
                    <td className={s.num} data-label="Amount">
                      {formatMoney(x.amount)}
                    </td>
                    <td className={s.wide} data-label={x.note ? "Note" : undefined}>
                      {x.note ?? ""}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager pagination={q.data.pagination} onPage={setPage} label="Expenses pages" />
        </>
      )}
    </Card>
  );
}

/** The running total by day (GET /api/analytics/budget/{id}), once spending spans two days or more. */
function SpendOverTime({ project: p }: { project: Project }) {
  const q = useQuery({
    queryKey: keys.budgetAnalytics(p.id),
    queryFn: () => unwrap(api.GET("/api/analytics/budget/{id}", { params: { path: { id: p.id } } })),
    enabled: p.budgetLines.length > 0,
  });
  if (q.isPending) return null; // optional: the budget above already says where the money went
  if (q.isError)
    return (
      <Card aria-labelledby="spend-heading">
        <h2 id="spend-heading">Spend over time</h2>
        <ErrorState error={q.error} retry={() => void q.refetch()} />
      </Card>
    );
  const b = q.data;
  if (b.labels.length < 2) return null;
  const first = b.labels[0];
  const last = b.labels[b.labels.length - 1];
  return (
    <Card aria-labelledby="spend-heading">
      <h2 id="spend-heading">Spend over time</h2>
      <figure style={{ margin: 0 }}>
        <div aria-hidden="true">
          <Suspense fallback={<div className={s.chart} />}>
            <SpendChart data={b} />
          </Suspense>
        </div>
        <figcaption className={s.muted}>
          {formatMoney(b.cumulativeTotal[b.cumulativeTotal.length - 1] ?? "0")} spent from {formatDay(first)} to{" "}
          {formatDay(last)}, on {b.labels.length} days.
        </figcaption>
      </figure>
      <details style={{ marginTop: 12 }}>
        <summary>Spend by day as a table</summary>
        <div className={layout.tableWrap}>
          <table className={layout.table} aria-label="Spend by day">
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col" className={s.num}>
                  Spent that day
                </th>
                <th scope="col" className={s.num}>
                  Spent so far
                </th>
              </tr>
            </thead>
            <tbody>
              {b.labels.map((day, i) => {
                const total = toCents(b.cumulativeTotal[i] ?? "0") ?? 0n;
                const before = i > 0 ? (toCents(b.cumulativeTotal[i - 1] ?? "0") ?? 0n) : 0n;
                return (
                  <tr key={day}>
                    <th scope="row">{formatDay(day)}</th>
                    <td className={s.num}>{formatMoney(fromCents(total - before))}</td>
                    <td className={s.num}>{formatMoney(fromCents(total))}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </details>
    </Card>
  );
}

function useUpdateProject(p: Project) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Partial<Schemas["ProjectUpdate"]>) =>
      unwrap(
        api.PUT("/api/production/projects/{id}", {
          params: { path: { id: p.id } },
          body: body as Schemas["ProjectUpdate"],
        }),
      ),
    onSuccess: (project) => refreshAfterChange(qc, project),
  });
}

function Milestones({ project: p }: { project: Project }) {
  const toggle = useUpdateProject(p);
  const add = useUpdateProject(p);
  const [title, setTitle] = useState("");
  const [due, setDue] = useState("");
  const [titleError, setTitleError] = useState<string | undefined>();
  // Shown as asked at once (the checkbox must not flip back while the PUT is on its way); the
  // project in the answer confirms it, or the error says why not.
  const [asked, setAsked] = useState<Record<number, boolean>>({});
  const today = todayIso();
  const done = p.milestones.filter((m) => m.done).length;

  function submit(e: FormEvent) {
    e.preventDefault();
    if (!title.trim()) {
      setTitleError("Give the milestone a title.");
      document.getElementById("ms-new-title")?.focus();
      return;
    }
    setTitleError(undefined);
    add.mutate(
      { milestones: [{ id: null, title: title.trim(), dueDate: due || null, done: null }] },
      {
        onSuccess: () => {
          setTitle("");
          setDue("");
        },
        onError: (err) => {
          const byPath = errorsByPath(err);
          setTitleError(byPath["milestones.0.title"]);
        },
      },
    );
  }

  return (
    <Card aria-labelledby="ms-heading">
      <h2 id="ms-heading">Milestones</h2>
      {toggle.error && <ErrorState error={toggle.error} />}
      {p.milestones.length === 0 ? (
        <Empty>No milestones yet.</Empty>
      ) : (
        <>
          <p className={`${s.muted} ${s.small}`}>
            {done} of {p.milestones.length} done
          </p>
          <ul className={s.plainList}>
            {p.milestones.map((m) => {
              const checked = asked[m.id] ?? m.done;
              const overdue = !checked && m.dueDate !== null && m.dueDate < today;
              return (
                <li key={m.id} className={s.milestone}>
                  <Checkbox
                    label={m.title}
                    checked={checked}
                    disabled={toggle.isPending}
                    onChange={(e) => {
                      const done = e.target.checked;
                      setAsked({ ...asked, [m.id]: done });
                      toggle.mutate(
                        { milestones: [{ id: m.id, done, title: null, dueDate: null }] },
                        { onSettled: () => setAsked(({ [m.id]: _, ...rest }) => rest) },
                      );
                    }}
                  />
                  <span className={`${s.small} ${s.muted}`}>
                    {m.done ? `Done ${formatDate(m.doneAt)}` : m.dueDate ? `Due ${formatDay(m.dueDate)}` : "No due date"}
                  </span>
                  {overdue && <Badge tone="danger">Overdue</Badge>}
                </li>
              );
            })}
          </ul>
        </>
      )}
      <form onSubmit={submit} noValidate style={{ marginTop: 16 }}>
        <h3>Add a milestone</h3>
        {add.error && !titleError && <ErrorState error={add.error} />}
        <TextField
          id="ms-new-title"
          label="Milestone title"
          maxLength={255}
          value={title}
          error={titleError}
          onChange={(e) => setTitle(e.target.value)}
        />
        <TextField id="ms-new-due" label="Due date" type="date" value={due} onChange={(e) => setDue(e.target.value)} />
        <Button type="submit" variant="secondary" busy={add.isPending}>
          Add milestone
        </Button>
      </form>
    </Card>
  );
}

function About({ project: p }: { project: Project }) {
  const overview = useQuery({
    queryKey: keys.investmentOverview,
    queryFn: () => unwrap(api.GET("/api/production/investments/overview")),
    enabled: p.pitchId !== null,
  });
  const row = overview.data?.projects.find((r) => r.projectId === p.id);
  return (
    <Card aria-labelledby="about-heading">
      <h2 id="about-heading">About</h2>
      <dl className={s.plainList} style={{ margin: 0 }}>
        <div>
          <dt className={`${s.muted} ${s.small}`}>Pitch</dt>
          <dd style={{ margin: "0 0 8px" }}>
            {p.pitchId === null ? (
              "Not linked to a pitch"
            ) : (
              <Link to={`/pitches/${p.pitchId}`}>{row?.pitchTitle ?? `Pitch #${p.pitchId}`}</Link>
            )}
          </dd>
        </div>
        {p.pitchId !== null && (
          <div>
            <dt className={`${s.muted} ${s.small}`}>Invested in the pitch</dt>
            <dd style={{ margin: "0 0 8px" }}>
              {overview.isPending ? (
                "Loading…"
              ) : overview.isError ? (
                errorMessage(overview.error)
              ) : row && row.investments > 0 ? (
                <>
                  {formatMoney(row.invested)} from {row.investors} {row.investors === 1 ? "investor" : "investors"}
                </>
              ) : (
                "No investments yet"
              )}
            </dd>
          </div>
        )}
        <div>
          <dt className={`${s.muted} ${s.small}`}>Dates</dt>
          <dd style={{ margin: "0 0 8px" }}>
            {p.startDate || p.endDate ? `${formatDay(p.startDate)} – ${formatDay(p.endDate)}` : "Not set"}
          </dd>
        </div>
        <div>
          <dt className={`${s.muted} ${s.small}`}>Last change</dt>
          <dd style={{ margin: 0 }}>{formatDate(p.updatedAt)}</dd>
        </div>
      </dl>
    </Card>
  );
}

let nextEditKey = 1;

interface EditLine {
  key: string;
  id: number | null;
  category: string;
  allocated: string;
}

function EditProject({ project: p, onDone }: { project: Project; onDone: () => void }) {
  const update = useUpdateProject(p);
  const [form, setForm] = useState({
    title: p.title,
    stage: p.stage,
    budget: String(p.budget),
    startDate: p.startDate ?? "",
    endDate: p.endDate ?? "",
  });
  const [lines, setLines] = useState<EditLine[]>(() =>
    p.budgetLines.map((l) => ({ key: `l${l.id}`, id: l.id, category: l.category, allocated: String(l.allocated) })),
  );
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);

  function submit(e: FormEvent) {
    e.preventDefault();
    setFormError(null);
    const errs: Record<string, string> = {};
    const body: Partial<Schemas["ProjectUpdate"]> = {};
    if (!form.title.trim()) errs.title = "Give the project a title.";
    else if (form.title.trim() !== p.title) body.title = form.title.trim();
    if (form.stage !== p.stage) body.stage = form.stage;
    const budget = parseAmount(form.budget, true);
    if ("error" in budget) errs.budget = budget.error;
    else if (toCents(budget.value) !== toCents(p.budget)) body.budget = budget.value;
    if (form.startDate && form.endDate && form.endDate < form.startDate) errs.endDate = "The end date must not be before the start date.";
    if ((p.startDate ?? "") !== form.startDate) body.startDate = form.startDate || null;
    if ((p.endDate ?? "") !== form.endDate) body.endDate = form.endDate || null;

    const sent: number[] = [];
    const patch: Schemas["BudgetLinePatchIn"][] = [];
    lines.forEach((l, i) => {
      const before = p.budgetLines.find((b) => b.id === l.id);
      if (!before && !l.category.trim() && !l.allocated.trim()) return;
      const category = l.category.trim();
      if (!category) errs[`budgetLines.${i}.category`] = "Name the category.";
      const amount = parseAmount(l.allocated, true);
      if ("error" in amount) errs[`budgetLines.${i}.allocated`] = amount.error;
      const value = "value" in amount ? amount.value : l.allocated;
      if (before && category === before.category && toCents(value) === toCents(before.allocated)) return;
      sent.push(i);
      patch.push({
        id: l.id,
        category: before && category === before.category ? null : category,
        allocated: value,
        spent: null,
      });
    });
    if (patch.length) body.budgetLines = patch;
    setErrors(errs);
    if (Object.keys(errs).length) {
      setFormError("Some fields need a look: see the messages next to them.");
      return;
    }
    if (!Object.keys(body).length) {
      onDone();
      return;
    }
    update.mutate(body, {
      onSuccess: onDone,
      onError: (err) => {
        const byPath = errorsByPath(err);
        const mapped: Record<string, string> = {};
        const rest: string[] = [];
        for (const [path, msg] of Object.entries(byPath)) {
          const m = /^budgetLines\.(\d+)\.(\w+)$/.exec(path);
          const row = m ? sent[Number(m[1])] : undefined;
          if (m && row !== undefined) mapped[`budgetLines.${row}.${m[2]}`] = msg;
          else if (/^(title|stage|budget|startDate|endDate)$/.test(path)) mapped[path] = msg;
          else rest.push(path ? `${path}: ${msg}` : msg);
        }
        setErrors(mapped);
        setFormError(
          err instanceof ApiError && err.code === "VALIDATION_ERROR"
            ? rest.join(" ") || "Some fields need a look: see the messages next to them."
            : errorMessage(err),
        );
      },
    });
  }

  return (
    <Card aria-labelledby="edit-heading" style={{ marginBottom: 20 }}>
      <h2 id="edit-heading">Edit project</h2>
      <form onSubmit={submit} noValidate>
        {formError && <Alert>{formError}</Alert>}
        <TextField
          id="ed-title"
          label="Title"
          maxLength={255}
          value={form.title}
          error={errors.title}
          onChange={(e) => setForm({ ...form, title: e.target.value })}
        />
        <div className={s.formGrid}>
          <Select
            id="ed-stage"
            label="Stage"
            value={form.stage}
            options={STAGE_OPTIONS}
            error={errors.stage}
            onChange={(e) => setForm({ ...form, stage: e.target.value as Stage })}
          />
          <TextField
            id="ed-budget"
            label="Total budget (USD)"
            inputMode="decimal"
            autoComplete="off"
            value={form.budget}
            error={errors.budget}
            onChange={(e) => setForm({ ...form, budget: e.target.value })}
          />
          <TextField
            id="ed-start"
            label="Start date"
            type="date"
            value={form.startDate}
            error={errors.startDate}
            onChange={(e) => setForm({ ...form, startDate: e.target.value })}
          />
          <TextField
            id="ed-end"
            label="End date"
            type="date"
            value={form.endDate}
            error={errors.endDate}
            onChange={(e) => setForm({ ...form, endDate: e.target.value })}
          />
        </div>
        <fieldset className={s.rows}>
          <legend>Budget lines</legend>
          {lines.map((l, i) => (
            <div className={s.row} key={l.key}>
              <TextField
                label={`Category, line ${i + 1}`}
                maxLength={100}
                value={l.category}
                error={errors[`budgetLines.${i}.category`]}
                onChange={(e) => setLines(lines.map((x) => (x.key === l.key ? { ...x, category: e.target.value } : x)))}
              />
              <TextField
                label={`Allocated, line ${i + 1}`}
                inputMode="decimal"
                autoComplete="off"
                value={l.allocated}
                error={errors[`budgetLines.${i}.allocated`]}
                onChange={(e) => setLines(lines.map((x) => (x.key === l.key ? { ...x, allocated: e.target.value } : x)))}
              />
              <div className={s.rowRemove}>
                {l.id === null && (
                  <Button small variant="secondary" onClick={() => setLines(lines.filter((x) => x.key !== l.key))}>
                    Remove line {i + 1}
                  </Button>
                )}
              </div>
            </div>
          ))}
          <Button
            variant="secondary"
            onClick={() => setLines([...lines, { key: `n${nextEditKey++}`, id: null, category: "", allocated: "" }])}
          >
            Add budget line
          </Button>
        </fieldset>
        <div className={s.formActions}>
          <Button type="submit" busy={update.isPending}>
            Save changes
          </Button>
          <Button variant="ghost" onClick={onDone}>
            Cancel
          </Button>
        </div>
      </form>
    </Card>
  );
}
