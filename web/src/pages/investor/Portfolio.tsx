// The investor's portfolio: totals, per-status sums, positions per pitch and recent investments.
// Money arrives as decimal strings and is only formatted, never computed, here.
import { Link } from "react-router";
import { formatCount, formatDate, formatDateTime, formatMoney } from "../../lib/format";
import { Badge, ButtonLink, Card, Empty, ErrorState, layout, Loading, PageHeader, Stat } from "../../ui";
import { STATUS_LABEL, useHistory, usePortfolio } from "./data";
import s from "./investor.module.css";

const TONE = {
  pending: "warn",
  completed: "success",
  failed: "danger",
  cancelled: undefined,
  refunded: undefined,
} as const;

export default function Portfolio() {
  const portfolio = usePortfolio();
  const history = useHistory(20);

  return (
    <div className={s.page}>
      <PageHeader title="Your portfolio">
        <ButtonLink to="/investor/history" variant="secondary">
          Investment history
        </ButtonLink>
        <ButtonLink to="/browse" variant="secondary">
          Find pitches
        </ButtonLink>
      </PageHeader>

      {portfolio.isPending ? (
        <Loading label="Loading your portfolio…" />
      ) : portfolio.isError ? (
        <ErrorState error={portfolio.error} retry={() => void portfolio.refetch()} />
      ) : (
        <>
          <div className={s.stats}>
            <Stat label="Total invested" value={<span data-testid="total-invested">{formatMoney(portfolio.data.totalInvested)}</span>} />
            <Stat label="Pitches backed" value={formatCount(portfolio.data.positionCount)} />
            <Stat label="Investments" value={formatCount(portfolio.data.investmentCount)} />
          </div>

          <Card aria-labelledby="positions-title">
            <h2 id="positions-title">Positions</h2>
            {portfolio.data.positions.length === 0 ? (
              <Empty>
                You have not invested yet. <Link to="/browse">Browse pitches</Link> to find a project to back.
              </Empty>
            ) : (
              <div className={layout.tableWrap}>
                <table className={layout.table}>
                  <caption className="visually-hidden">Your investments per pitch, largest first</caption>
                  <thead>
                    <tr>
                      <th scope="col">Pitch</th>
                      <th scope="col" className={s.wide}>Genre</th>
                      <th scope="col" className={s.num}>Amount</th>
                      <th scope="col" className={s.num}>Investments</th>
                      <th scope="col" className={s.wide}>Last</th>
                    </tr>
                  </thead>
                  <tbody>
                    {portfolio.data.positions.map((p) => (
                      <tr key={p.pitchId} data-testid="position">
                        <th scope="row">
                          <Link to={`/pitches/${p.pitchId}`}>{p.pitchTitle}</Link>
                        </th>
                        <td className={s.wide}>{p.genre ?? "—"}</td>
                        <td className={s.num}>{formatMoney(p.amount)}</td>
                        <td className={s.num}>{formatCount(p.count)}</td>
                        <td className={s.wide}>{formatDate(p.lastInvestmentAt)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </Card>

          {portfolio.data.byStatus.length > 0 && (
            <Card aria-labelledby="status-title">
              <h2 id="status-title">By status</h2>
              <ul className={s.statusList}>
                {portfolio.data.byStatus.map((b) => (
                  <li key={b.status}>
                    <Badge tone={TONE[b.status]}>{STATUS_LABEL[b.status]}</Badge>
                    <span>
                      {formatCount(b.count)} {b.count === 1 ? "investment" : "investments"}
                    </span>
                    <strong>{formatMoney(b.amount)}</strong>
                  </li>
                ))}
              </ul>
            </Card>
          )}
        </>
      )}

      <Card aria-labelledby="history-title">
        <h2 id="history-title">Recent investments</h2>
        {history.isPending ? (
          <Loading label="Loading your investments…" />
        ) : history.isError ? (
          <ErrorState error={history.error} retry={() => void history.refetch()} />
        ) : history.data.length === 0 ? (
          <Empty>No investments yet.</Empty>
        ) : (
          <div className={layout.tableWrap}>
            <table className={layout.table}>
              <caption className="visually-hidden">Your most recent investments</caption>
              <thead>
                <tr>
                  <th scope="col">Date</th>
                  <th scope="col">Pitch</th>
                  <th scope="col" className={s.num}>Amount</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {history.data.map((i) => (
                  <tr key={i.id}>
                    <td>
                      <span className={s.narrow}>{formatDate(i.createdAt)}</span>
                      <span className={s.wide}>{formatDateTime(i.createdAt)}</span>
                    </td>
                    <td>
                      <Link to={`/pitches/${i.pitchId}`}>{i.pitchTitle}</Link>
                    </td>
                    <td className={s.num}>{formatMoney(i.amount)}</td>
                    <td>
                      <Badge tone={TONE[i.status]}>{STATUS_LABEL[i.status]}</Badge>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </div>
  );
}
