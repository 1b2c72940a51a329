// /production/following: pitches recently published by the people the company follows, newest
// first, paginated (page in the URL), each with a way to start a project from it.
import { useQuery } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router";
import { api } from "../../api/client";
import { keys } from "../../api/keys";
import { formatDateTime } from "../../lib/format";
import { Badge, ButtonLink, Card, Empty, ErrorState, Loading, PageHeader } from "../../ui";
import s from "./production.module.css";
import { Pager, unwrapPage, useDocumentTitle } from "./shared";

const PAGE_SIZE = 20;

export default function Following() {
  useDocumentTitle("From people you follow");
  const [params, setParams] = useSearchParams();
  const page = Math.max(1, Number.parseInt(params.get("page") ?? "1", 10) || 1);
  const q = useQuery({
    queryKey: keys.productionFollowing(page),
    queryFn: () =>
      unwrapPage(api.GET("/api/production/following", { params: { query: { page, limit: PAGE_SIZE } } })),
    placeholderData: (prev) => prev,
  });

  return (
    <>
      <PageHeader title="From people you follow">
        <ButtonLink to="/production" variant="secondary">
          Back to projects
        </ButtonLink>
      </PageHeader>
      {q.isPending ? (
        <Loading label="Loading activity…" />
      ) : q.isError ? (
        <ErrorState error={q.error} retry={() => void q.refetch()} />
      ) : q.data.items.length === 0 ? (
        <Empty>
          Nothing yet. Follow creators from their pitches to see what they publish here.{" "}
          <Link to="/browse">Browse pitches</Link>
        </Empty>
      ) : (
        <>
          <ul className={s.list} aria-label="Published pitches" aria-busy={q.isPlaceholderData || undefined}>
            {q.data.items.map((a) => (
              <li key={`${a.pitch.id}-${a.at}`}>
                <Card className={s.projectCard}>
                  <div className={s.sectionHead}>
                    <h2 className={s.cardTitle}>
                      <Link to={`/pitches/${a.pitch.id}`}>{a.pitch.title}</Link>
                    </h2>
                    <span className={s.badges}>
                      {a.pitch.genre && <Badge>{a.pitch.genre}</Badge>}
                      {a.pitch.format && <Badge>{a.pitch.format}</Badge>}
                      {a.pitch.requireNda && <Badge tone="warn">NDA</Badge>}
                    </span>
                  </div>
                  {a.pitch.logline && <p style={{ margin: 0 }}>{a.pitch.logline}</p>}
                  <div className={s.figures}>
                    <span>
                      {a.user.name ?? a.user.companyName ?? a.user.username ?? "Someone"} published it{" "}
                      {formatDateTime(a.at)}
                    </span>
                    <Link to={`/production/projects/new?pitchId=${a.pitch.id}`} aria-label={`Start a project from ${a.pitch.title}`}>
                      Start a project
                    </Link>
                  </div>
                </Card>
              </li>
            ))}
          </ul>
          <Pager
            pagination={q.data.pagination}
            onPage={(n) => {
              const p = new URLSearchParams(params);
              if (n > 1) p.set("page", String(n));
              else p.delete("page");
              setParams(p);
            }}
            label="Activity pages"
          />
        </>
      )}
    </>
  );
}
