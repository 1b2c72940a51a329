// /production: the company's projects (stage filter and page in the URL), its production figures,
// the money invested in the pitches its projects produce, and what the people it follows published.
import { useQuery } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { keys } from "../../api/keys";
import { formatCount, formatDateTime, formatMoney } from "../../lib/format";
import { Badge, ButtonLink, Card, Empty, ErrorState, Loading, PageHeader, Select, Stat, layout } from "../../ui";
import { isNegative, toCents } from "./money";
import s from "./production.module.css";
import {
  asStage,
  formatDay,
  Pager,
  SpendBar,
  STAGE_LABEL,
  STAGE_OPTIONS,
  StageBadge,
  unwrapPage,
  useDocumentTitle,
  type Project,
} from "./shared";
import { ProfilePrompt } from "../../components/ProfilePrompt";

const PAGE_SIZE = 10;

export default function Dashboard() {
  useDocumentTitle("Production");
  return (
    <>
      <PageHeader title="Production">
        <ButtonLink to="/production/projects/new">New project</ButtonLink>
      </PageHeader>
      <ProfilePrompt />
      <Summary />
      <div className={s.columns}>
        <div className={layout.stack}>
          <Projects />
          <InvestmentOverview />
        </div>
        <div className={layout.stack}>
          <Milestones />
          <OverduePhases />
          <OverBudget />
          <Following />
        </div>
      </div>
    </>
  );
}

function useProductionAnalytics() {
  return useQuery({
    queryKey: keys.productionAnalytics,
    queryFn: () => unwrap(api.GET("/api/analytics/production")),
  });
}

function useInvestmentOverview() {
  return useQuery({
    queryKey: keys.investmentOverview,
    queryFn: () => unwrap(api.GET("/api/production/investments/overview")),
  });
}

function Summary() {
  const q = useProductionAnalytics();
  if (q.isPending) return <Loading label="Loading your figures…" />;
  if (q.isError) return <ErrorState error={q.error} retry={() => void q.refetch()} />;
  const { projects, budget } = q.data;
  const active = projects.total - (projects.byStage.completed ?? 0);
  return (
    <div className={s.stats} aria-label="Your figures" role="group">
      <Stat label={`Projects (${formatCount(active)} active)`} value={formatCount(projects.total)} />
      <Stat label="Total budget" value={formatMoney(budget.budget)} />
      <Stat label="Allocated to budget lines" value={formatMoney(budget.allocated)} />
      <Stat label="Spent" value={formatMoney(budget.spent)} />
      <Stat
        label={budget.overBudgetProjects ? `Remaining · ${budget.overBudgetProjects} over budget` : "Remaining"}
        value={<span className={isNegative(budget.remaining) ? s.over : undefined}>{formatMoney(budget.remaining)}</span>}
      />
    </div>
  );
}

function Projects() {
  const [params, setParams] = useSearchParams();
  const stage = asStage(params.get("stage"));
  const page = Math.max(1, Number.parseInt(params.get("page") ?? "1", 10) || 1);
  const filter: Record<string, string> = { page: String(page), ...(stage ? { stage } : {}) };
  const q = useQuery({
    queryKey: keys.projectList(filter),
    queryFn: () =>
      unwrapPage(api.GET("/api/production/projects", { params: { query: { page, limit: PAGE_SIZE, stage: stage ?? undefined } } })),
    placeholderData: (prev) => prev,
  });

  function update(next: { stage?: string; page?: number }) {
    const p = new URLSearchParams(params);
    if (next.stage !== undefined) {
      if (next.stage) p.set("stage", next.stage);
      else p.delete("stage");
      p.delete("page");
    }
    if (next.page !== undefined) {
      if (next.page > 1) p.set("page", String(next.page));
      else p.delete("page");
    }
    setParams(p);
  }

  return (
    <Card aria-labelledby="projects-heading">
      <div className={s.sectionHead}>
        <h2 id="projects-heading">Projects</h2>
        <div className={s.filters}>
          <Select
            label="Stage"
            value={stage ?? ""}
            onChange={(e) => update({ stage: e.target.value })}
            options={[{ value: "", label: "All stages" }, ...STAGE_OPTIONS]}
          />
        </div>
      </div>
      {q.isPending ? (
        <Loading label="Loading projects…" />
      ) : q.isError ? (
        <ErrorState error={q.error} retry={() => void q.refetch()} />
      ) : q.data.items.length === 0 ? (
        <Empty>
          {stage ? (
            <>No project is in {STAGE_LABEL[stage].toLowerCase()}. </>
          ) : (
            <>
              No projects yet. <Link to="/production/projects/new">Create one from a published pitch</Link>.
            </>
          )}
        </Empty>
      ) : (
        <>
          <ul className={s.list} aria-busy={q.isPlaceholderData || undefined}>
            {q.data.items.map((p) => (
              <li key={p.id}>
                <ProjectCard project={p} />
              </li>
            ))}
          </ul>
          <Pager pagination={q.data.pagination} onPage={(n) => update({ page: n })} label="Projects pages" />
        </>
      )}
    </Card>
  );
}

function ProjectCard({ project: p }: { project: Project }) {
  const done = p.milestones.filter((m) => m.done).length;
  return (
    <Card className={s.projectCard}>
      <div className={s.sectionHead}>
        <h3>
          <Link to={`/production/projects/${p.id}`}>{p.title}</Link>
        </h3>
        <span className={layout.row}>
          <StageBadge stage={p.stage} />
          {p.totals.overBudget && <Badge tone="danger">Over budget</Badge>}
          {!p.totals.overBudget && p.totals.linesOverBudget > 0 && (
            <Badge tone="warn">
              {p.totals.linesOverBudget} {p.totals.linesOverBudget === 1 ? "line" : "lines"} over
            </Badge>
          )}
        </span>
      </div>
      <SpendBar spent={p.totals.spent} allocated={p.totals.budget} />
      <div className={s.figures}>
        <span>
          Spent <strong>{formatMoney(p.totals.spent)}</strong> of <strong>{formatMoney(p.totals.budget)}</strong>
        </span>
        <span>
          {p.budgetLines.length} budget {p.budgetLines.length === 1 ? "line" : "lines"}
        </span>
        <span>
          Milestones {done}/{p.milestones.length}
        </span>
        {(p.startDate || p.endDate) && (
          <span>
            {formatDay(p.startDate)} – {formatDay(p.endDate)}
          </span>
        )}
      </div>
    </Card>
  );
}

function InvestmentOverview() {
  const q = useInvestmentOverview();
  return (
    <Card aria-labelledby="investment-heading">
      <h2 id="investment-heading">Investment in your pitches</h2>
      {q.isPending ? (
        <Loading label="Loading investments…" />
      ) : q.isError ? (
        <ErrorState error={q.error} retry={() => void q.refetch()} />
      ) : (
        <>
          <dl className={s.figureGrid}>
            <Figure label="Invested" value={formatMoney(q.data.totals.invested)} />
            <Figure label="Completed" value={formatMoney(q.data.totals.completed)} />
            <Figure label="Pending" value={formatMoney(q.data.totals.pending)} />
            <Figure label="Investors" value={formatCount(q.data.totals.investors)} />
            <Figure label="Investments" value={formatCount(q.data.totals.investments)} />
          </dl>
          {q.data.projects.length === 0 ? (
            <Empty>None of your projects is linked to a pitch yet. Investments in linked pitches show here.</Empty>
          ) : (
            <div className={layout.tableWrap}>
              <table className={`${layout.table} ${s.cardTable}`}>
                <caption className="visually-hidden">Investment per project</caption>
                <thead>
                  <tr>
                    <th scope="col">Project</th>
                    <th scope="col">Pitch</th>
                    <th scope="col" className={s.num}>
                      Invested
                    </th>
                    <th scope="col" className={s.num}>
                      Investors
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {q.data.projects.map((row) => (
                    <tr key={`${row.projectId}-${row.pitchId}`}>
                      <th scope="row">
                        <Link to={`/production/projects/${row.projectId}`}>{row.projectTitle}</Link>
                      </th>
                      <td data-label="Pitch">
                        <Link to={`/pitches/${row.pitchId}`}>{row.pitchTitle}</Link>
                      </td>
                      <td className={s.num} data-label="Invested">
                        {formatMoney(row.invested)}
                        {(toCents(row.pending) ?? 0n) > 0n && (
                          <div className={`${s.muted} ${s.small}`}>{formatMoney(row.pending)} pending</div>
                        )}
                      </td>
                      <td className={s.num} data-label="Investors">
                        {formatCount(row.investors)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </Card>
  );
}

function Figure({ label, value }: { label: string; value: string }) {
  return (
    <div className={s.figure}>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}

function Milestones() {
  const q = useProductionAnalytics();
  return (
    <Card aria-labelledby="milestones-heading">
      <h2 id="milestones-heading">Milestones</h2>
      {q.isPending ? (
        <Loading label="Loading milestones…" />
      ) : q.isError ? (
        <ErrorState error={q.error} retry={() => void q.refetch()} />
      ) : q.data.milestones.total === 0 ? (
        <Empty>No milestones yet.</Empty>
      ) : (
        <>
          <p className={s.muted}>
            {q.data.milestones.done} of {q.data.milestones.total} done
            {q.data.milestones.completionPercent !== null && ` (${Math.round(q.data.milestones.completionPercent)}%)`}
            {q.data.milestones.overdue > 0 && (
              <>
                {" · "}
                <span className={s.over}>{q.data.milestones.overdue} overdue</span>
              </>
            )}
          </p>
          {q.data.upcomingMilestones.length > 0 && (
            <>
              <h3>Coming up</h3>
              <ul className={s.plainList}>
                {q.data.upcomingMilestones.map((m) => (
                  <li key={m.milestoneId}>
                    <strong>{m.title}</strong> · {formatDay(m.dueDate)}
                    <div className={`${s.muted} ${s.small}`}>
                      <Link to={`/production/projects/${m.projectId}`}>{m.projectTitle}</Link>
                    </div>
                  </li>
                ))}
              </ul>
            </>
          )}
        </>
      )}
    </Card>
  );
}

const PHASE_NAME: Record<string, string> = {
  development: "Development",
  pre_production: "Pre-production",
  shooting: "Shooting",
  post: "Post-production",
  distribution: "Distribution",
};

/** Timeline phases not done whose end date has passed (shown only when there are some). */
function OverduePhases() {
  const q = useProductionAnalytics();
  if (!q.data || q.data.overduePhases.length === 0) return null;
  return (
    <Card aria-labelledby="overdue-phases-heading">
      <h2 id="overdue-phases-heading">Overdue phases</h2>
      <ul className={s.plainList}>
        {q.data.overduePhases.map((p) => (
          <li key={`${p.projectId}-${p.phase}`}>
            <strong>{PHASE_NAME[p.phase] ?? p.phase}</strong> · ended {formatDay(p.endDate)}
            <div className={`${s.muted} ${s.small}`}>
              <Link to={`/production/projects/${p.projectId}/timeline`}>{p.projectTitle}</Link>
            </div>
          </li>
        ))}
      </ul>
    </Card>
  );
}

function OverBudget() {
  const q = useProductionAnalytics();
  if (!q.data || q.data.overBudgetLines.length === 0) return null;
  return (
    <Card aria-labelledby="overbudget-heading">
      <h2 id="overbudget-heading">Over budget</h2>
      <ul className={s.plainList}>
        {q.data.overBudgetLines.map((l) => (
          <li key={l.lineId}>
            <strong>{l.category}</strong> in{" "}
            <Link to={`/production/projects/${l.projectId}`}>{l.projectTitle}</Link>
            <div className={s.small}>
              <span className={s.over}>{formatMoney(l.overBy)} over</span>{" "}
              <span className={s.muted}>
                ({formatMoney(l.spent)} of {formatMoney(l.allocated)})
              </span>
            </div>
          </li>
        ))}
      </ul>
    </Card>
  );
}

function Following() {
  const q = useQuery({
    queryKey: keys.productionFollowing(1),
    queryFn: () => unwrapPage(api.GET("/api/production/following", { params: { query: { page: 1, limit: 5 } } })),
  });
  return (
    <Card aria-labelledby="following-heading">
      <div className={s.sectionHead}>
        <h2 id="following-heading">From people you follow</h2>
        {q.data && q.data.items.length > 0 && (
          <Link to="/production/following" aria-label="See all from people you follow">
            See all
          </Link>
        )}
      </div>
      {q.isPending ? (
        <Loading label="Loading activity…" />
      ) : q.isError ? (
        <ErrorState error={q.error} retry={() => void q.refetch()} />
      ) : q.data.items.length === 0 ? (
        <Empty>
          Nothing new. Follow creators from their pitches to see what they publish. <Link to="/browse">Browse pitches</Link>
        </Empty>
      ) : (
        <ul className={s.plainList}>
          {q.data.items.map((a) => (
            <li key={`${a.pitch.id}-${a.at}`}>
              <Link to={`/pitches/${a.pitch.id}`}>{a.pitch.title}</Link>
              {a.pitch.genre && <span className={s.muted}> · {a.pitch.genre}</span>}
              <div className={`${s.muted} ${s.small}`}>
                {a.user.name ?? a.user.companyName ?? a.user.username ?? "Someone"} published{" "}
                {formatDateTime(a.at)}
              </div>
              <div className={s.small}>
                <Link to={`/production/projects/new?pitchId=${a.pitch.id}`} aria-label={`Start a project from ${a.pitch.title}`}>
                      Start a project
                    </Link>
              </div>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
