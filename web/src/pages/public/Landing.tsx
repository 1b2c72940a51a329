// The front door: what Pitchey is, a way in for each portal, and real pitches (trending, newest).
// Kept small on purpose (the time to the first pitch card is benchmarked): no charts, no portal code.
import { useQuery, type UseQueryResult } from "@tanstack/react-query";
import { keys } from "../../api/keys";
import { useSession } from "../../auth/session";
import { PitchCard, PitchGrid, PitchGridItem } from "../../components/PitchCard";
import { ButtonLink, Empty, ErrorState, Loading } from "../../ui";
import { fetchBrowse, fetchTrending, type PitchPage } from "./pitchLists";
import s from "./public.module.css";

const SHOWN = 6;

const PORTAL_CTAS = [
  {
    portal: "creator",
    title: "Creators",
    text: "Pitch your film or series, protect the details behind an NDA, and watch interest arrive live.",
    cta: "Pitch your project",
  },
  {
    portal: "investor",
    title: "Investors",
    text: "Discover projects early, sign NDAs in a click, and follow your portfolio in one place.",
    cta: "Find projects",
  },
  {
    portal: "production",
    title: "Production companies",
    text: "Turn pitches into projects with budgets, milestones and expenses tracked as you go.",
    cta: "Start producing",
  },
] as const;

function PitchSection({
  id,
  title,
  query,
  emptyText,
}: {
  id: string;
  title: string;
  query: UseQueryResult<PitchPage>;
  emptyText: string;
}) {
  return (
    <section className={s.section} aria-labelledby={id}>
      <div className={s.sectionHead}>
        <h2 id={id}>{title}</h2>
        <ButtonLink to="/browse" variant="ghost" small>
          See all pitches
        </ButtonLink>
      </div>
      {query.isPending ? (
        <Loading label={`Loading ${title.toLowerCase()}…`} />
      ) : query.isError ? (
        <ErrorState error={query.error} retry={() => void query.refetch()} />
      ) : query.data.items.length === 0 ? (
        <Empty>{emptyText}</Empty>
      ) : (
        <PitchGrid label={title}>
          {query.data.items.map((p) => (
            <PitchGridItem key={p.id}>
              <PitchCard pitch={p} />
            </PitchGridItem>
          ))}
        </PitchGrid>
      )}
    </section>
  );
}

export default function Landing() {
  const session = useSession();
  const user = session.data ?? null;
  const trending = useQuery({
    queryKey: [...keys.trending, SHOWN],
    queryFn: ({ signal }) => fetchTrending(SHOWN, signal),
  });
  const newest = useQuery({
    queryKey: [...keys.newest, SHOWN],
    queryFn: ({ signal }) => fetchBrowse({ sort: "newest", limit: SHOWN }, signal),
  });

  return (
    <div className={s.landing}>
      <section className={s.hero} aria-labelledby="hero-title">
        <h1 id="hero-title">Where film and TV projects meet the people who make them happen</h1>
        <p className={s.lead}>
          Pitchey connects creators with investors and production companies. Pitch a project, protect
          what matters behind an NDA, and see views, likes and requests the moment they happen.
        </p>
        <div className={s.heroActions}>
          <ButtonLink to="/browse" variant="secondary" className={s.heroPrimary}>
            Browse pitches
          </ButtonLink>
          {user ? (
            <ButtonLink to={`/${user.userType}`} variant="ghost" className={s.heroGhost}>
              Go to your dashboard
            </ButtonLink>
          ) : (
            <ButtonLink to="/register" variant="ghost" className={s.heroGhost}>
              Join Pitchey
            </ButtonLink>
          )}
        </div>
      </section>

      {!user && (
        <section aria-labelledby="portals-title">
          <h2 id="portals-title" className="visually-hidden">
            Join as
          </h2>
          <ul className={s.portals}>
            {PORTAL_CTAS.map((p) => (
              <li key={p.portal} className={s.portal}>
                <h3>{p.title}</h3>
                <p>{p.text}</p>
                <ButtonLink to={`/${p.portal}/register`} variant="secondary" small>
                  {p.cta}
                  <span className="visually-hidden"> as {p.title.toLowerCase()}</span>
                </ButtonLink>
              </li>
            ))}
          </ul>
        </section>
      )}

      <PitchSection id="trending-title" title="Trending now" query={trending}
        emptyText="Nothing is trending yet. New pitches show up here as people view and like them." />
      <PitchSection id="newest-title" title="Newest pitches" query={newest}
        emptyText="No pitches are published yet. Be the first: join as a creator." />
    </div>
  );
}
