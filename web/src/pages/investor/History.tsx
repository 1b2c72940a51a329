// /investor/history: every investment of the investor, newest first, a page at a time (the page is
// in the URL, so a link or a reload shows the same one). One request per page: the rows come with
// their pitch titles.
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api } from "../../api/client";
import { keys } from "../../api/keys";
import { formatCount, formatDate, formatDateTime, formatMoney } from "../../lib/format";
import { Badge, ButtonLink, Card, Empty, ErrorState, layout, Loading, PageHeader } from "../../ui";
import { useDocumentTitle } from "../production/shared";
import { Pager, unwrapPage, useUrlPage } from "../shared/paging";
import { STATUS_LABEL } from "./data";
import b from "../shared/billing.module.css";
import s from "./investor.module.css";

const PAGE_SIZE = 20;
const TONE = {
  pending: "warn",
  completed: "success",
  failed: "danger",
  cancelled: undefined,
  refunded: undefined,
} as const;

export default function History() {
  useDocumentTitle("Investment history");
  const [page, setPage] = useUrlPage("page");
  const q = useQuery({
    queryKey: keys.investmentHistoryPage(page),
    queryFn: () =>
      unwrapPage(api.GET("/api/investments/history", { params: { query: { page, limit: PAGE_SIZE } } })),
    placeholderData: (prev) => prev,
  });

  return (
    <div className={s.page}>
      <PageHeader title="Investment history">
        <ButtonLink to="/investor/portfolio" variant="secondary">
          Back to portfolio
        </ButtonLink>
      </PageHeader>
      <Card aria-labelledby="history-title">
        <h2 id="history-title" className="visually-hidden">
          Your investments, newest first
        </h2>
        {q.isPending ? (
          <Loading label="Loading your investments…" />
        ) : q.isError ? (
          <>
            <ErrorState error={q.error} retry={() => void q.refetch()} />
            {page > 1 && <Link to="/investor/history">Go to the first page</Link>}
          </>
        ) : q.data.items.length === 0 ? (
          page > 1 ? (
            <Empty>
              There is no page {page}. <Link to="/investor/history">Go to the first page</Link>
            </Empty>
          ) : (
            <Empty>
              You have not invested yet. <Link to="/browse">Browse pitches</Link> to find a project to back.
            </Empty>
          )
        ) : (
          <>
            <p className={b.muted} data-testid="history-count">
              {formatCount(q.data.pagination.total)} {q.data.pagination.total === 1 ? "investment" : "investments"} in all
            </p>
            <div className={layout.tableWrap}>
              <table className={`${layout.table} ${b.blocks}`} aria-busy={q.isPlaceholderData || undefined} data-testid="history">
                <caption className="visually-hidden">
                  Your investments, newest first, page {q.data.pagination.page}
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Date</th>
                    <th scope="col">Pitch</th>
                    <th scope="col" className={s.num}>
                      Amount
                    </th>
                    <th scope="col">Status</th>
                  </tr>
                </thead>
                <tbody>
                  {q.data.items.map((i) => (
                    <tr key={i.id} data-testid="history-row">
                      <td data-label="Date">
                        <span className={s.narrow}>{formatDate(i.createdAt)}</span>
                        <span className={s.wide}>{formatDateTime(i.createdAt)}</span>
                      </td>
                      <td data-label="Pitch">
                        <Link to={`/pitches/${i.pitchId}`}>{i.pitchTitle}</Link>
                      </td>
                      <td data-label="Amount" className={s.num}>
                        {formatMoney(i.amount, i.currency)}
                      </td>
                      <td data-label="Status">
                        <Badge tone={TONE[i.status]}>{STATUS_LABEL[i.status]}</Badge>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager
              pagination={q.data.pagination}
              onPage={(n) => {
                setPage(n);
                window.scrollTo({ top: 0 });
              }}
              label="History pages"
              busy={q.isPlaceholderData}
            />
          </>
        )}
      </Card>
    </div>
  );
}
