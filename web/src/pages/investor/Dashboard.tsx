// The investor's home: what to look at next (recommendations with their reasons), new pitches from
// the creators they follow, and their portfolio at a glance.
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { keys } from "../../api/keys";
import { useSession } from "../../auth/session";
import { PitchCard, PitchGrid, PitchGridItem } from "../../components/PitchCard";
import { formatCount, formatMoney } from "../../lib/format";
import { ButtonLink, Empty, ErrorState, Loading, PageHeader, Stat } from "../../ui";
import { fetchFollowing } from "../public/pitchLists";
import { usePortfolio, useRecommendations } from "./data";
import s from "./investor.module.css";
import { ProfilePrompt } from "../../components/ProfilePrompt";

const SHOWN = 6;

export default function Dashboard() {
  const session = useSession();
  const name = session.data?.name ?? session.data?.username ?? null;
  const portfolio = usePortfolio();
  const recs = useRecommendations(SHOWN);
  const following = useQuery({
    queryKey: [...keys.pitches, "following", SHOWN],
    queryFn: ({ signal }) => fetchFollowing(SHOWN, signal),
  });

  return (
    <div className={s.page}>
      <PageHeader title={name ? `Welcome, ${name}` : "Investor dashboard"}>
        <ButtonLink to="/browse" variant="secondary">
          Browse pitches
        </ButtonLink>
        <ButtonLink to="/investor/portfolio">Your portfolio</ButtonLink>
      </PageHeader>
      <ProfilePrompt />

      <section aria-labelledby="glance-title">
        <h2 id="glance-title">Portfolio at a glance</h2>
        {portfolio.isPending ? (
          <Loading label="Loading your portfolio…" />
        ) : portfolio.isError ? (
          <ErrorState error={portfolio.error} retry={() => void portfolio.refetch()} />
        ) : (
          <div className={s.stats}>
            <Stat label="Invested" value={formatMoney(portfolio.data.totalInvested)} />
            <Stat label="Pitches backed" value={formatCount(portfolio.data.positionCount)} />
            <Stat label="Investments" value={formatCount(portfolio.data.investmentCount)} />
          </div>
        )}
      </section>

      <section aria-labelledby="recs-title" className={s.section}>
        <h2 id="recs-title">Recommended for you</h2>
        {recs.isPending ? (
          <Loading label="Loading recommendations…" />
        ) : recs.isError ? (
          <ErrorState error={recs.error} retry={() => void recs.refetch()} />
        ) : recs.data.length === 0 ? (
          <Empty>
            Nothing to recommend yet. <Link to="/browse">Browse pitches</Link> and like the ones you enjoy: we learn from them.
          </Empty>
        ) : (
          <PitchGrid label="Recommended pitches">
            {recs.data.map((r) => (
              <PitchGridItem key={r.pitch.id}>
                <PitchCard pitch={r.pitch} eyebrow={r.reason} />
              </PitchGridItem>
            ))}
          </PitchGrid>
        )}
      </section>

      <section aria-labelledby="following-title" className={s.section}>
        <h2 id="following-title">From creators you follow</h2>
        {following.isPending ? (
          <Loading label="Loading pitches from people you follow…" />
        ) : following.isError ? (
          <ErrorState error={following.error} retry={() => void following.refetch()} />
        ) : following.data.items.length === 0 ? (
          <Empty>No new pitches from creators you follow.</Empty>
        ) : (
          <PitchGrid label="Pitches from creators you follow">
            {following.data.items.map((p) => (
              <PitchGridItem key={p.id}>
                <PitchCard pitch={p} />
              </PitchGridItem>
            ))}
          </PitchGrid>
        )}
      </section>
    </div>
  );
}
