// The investor's home: their figures over a range (kept in the URL) with the change against the
// range before, what to look at next (recommendations with their reasons), new pitches from the
// creators they follow, and their portfolio at a glance.
import { useQuery } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router";
import { keys } from "../../api/keys";
import { useSession } from "../../auth/session";
import { PitchCard, PitchGrid, PitchGridItem } from "../../components/PitchCard";
import { formatCount, formatMoney } from "../../lib/format";
import { ButtonLink, Empty, ErrorState, Loading, PageHeader, Select, Stat } from "../../ui";
import { MetricCard } from "../../components/MetricCard";
import { asRange, RANGES, useDashboard } from "../creator/data";
import { fetchFollowing } from "../public/pitchLists";
import { usePortfolio, useRecommendations } from "./data";
import s from "./investor.module.css";
import { ProfilePrompt } from "../../components/ProfilePrompt";

const SHOWN = 6;

const METRICS: readonly { key: string; label: string }[] = [
  { key: "invested", label: "Amount invested" },
  { key: "investments", label: "Investments made" },
  { key: "ndasSigned", label: "NDAs signed" },
];

export default function Dashboard() {
  const session = useSession();
  const name = session.data?.name ?? session.data?.username ?? null;
  const [search, setSearch] = useSearchParams();
  const range = asRange(search.get("range"));
  const rangeLabel = RANGES.find((r) => r.value === range)?.label ?? range;
  const dash = useDashboard(range);
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

      <section aria-labelledby="figures-title">
        {/* The range sits by the figures it governs (on a phone the header's buttons wrap apart). */}
        <div className={s.figuresHead}>
          <h2 id="figures-title">Your activity, {rangeLabel.toLowerCase()}</h2>
          <Select
            label="Range"
            value={range}
            options={RANGES}
            onChange={(e) => {
              const next = new URLSearchParams(search);
              next.set("range", e.target.value);
              setSearch(next, { replace: true });
            }}
          />
        </div>
        {dash.isPending ? (
          <Loading label="Loading your figures…" />
        ) : dash.isError ? (
          <ErrorState error={dash.error} retry={() => void dash.refetch()} />
        ) : (
          <div className={s.stats} data-testid="investor-figures">
            {METRICS.map((m) => {
              const metric = dash.data.metrics[m.key];
              return metric ? (
                <MetricCard key={m.key} label={m.label} metric={metric} period={rangeLabel.replace("Last ", "")} />
              ) : null;
            })}
          </div>
        )}
      </section>

      <section aria-labelledby="glance-title" className={s.section}>
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
