// /people/following and /people/followers: the signed-in person's follows, paginated (page in the
// URL), each row linking to the person's profile with follow/unfollow where we know the state.
//
// The followers list does not say whether I follow each of them back, and asking per row would be
// a request per row. So the page asks once for the first 100 people I follow: a follower among
// them is "Following", one not among them is "Follow back" only when those 100 are all of them;
// otherwise the row says nothing it does not know and links to the profile, which knows.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link, NavLink, useParams } from "react-router";
import { api, errorMessage, unwrap, type Schemas } from "../../api/client";
import { keys } from "../../api/keys";
import { PORTAL_LABEL, useSession } from "../../auth/session";
import { formatDate } from "../../lib/format";
import { useUserEvents, type ServerFrame } from "../../realtime";
import { Alert, Button, ButtonLink, Empty, ErrorState, Loading, PageHeader } from "../../ui";
import { Pager, unwrapPage, useUrlPage } from "../shared/paging";
import { Avatar } from "./parts";
import s from "./account.module.css";

type Which = "followers" | "following";
type FollowItem = Schemas["FollowItem"];
type Summary = Schemas["UserSummary"];

const PAGE_SIZE = 20;
const LOOKUP_SIZE = 100; // the API's largest page

function nameOf(u: Summary): string {
  return u.name || u.username || u.companyName || `User ${u.id}`;
}

function useFollowList(which: Which, page: number) {
  return useQuery({
    queryKey: keys.followList(which, page),
    queryFn: () => {
      const params = { query: { page, limit: PAGE_SIZE } };
      return unwrapPage(
        which === "followers"
          ? api.GET("/api/follows/followers", { params })
          : api.GET("/api/follows/following", { params }),
      );
    },
    placeholderData: keepPreviousData,
  });
}

/** Who I follow (the first 100), to tell which followers I follow back; `complete` when that is all. */
function useFollowingLookup(enabled: boolean) {
  return useQuery({
    queryKey: keys.followingLookup,
    queryFn: async () => {
      const r = await unwrapPage(
        api.GET("/api/follows/following", { params: { query: { page: 1, limit: LOOKUP_SIZE } } }),
      );
      return { ids: r.items.map((i) => i.user.id), complete: r.pagination.total <= r.items.length };
    },
    enabled,
  });
}

/** Follow or unfollow from a row. The row stays where it is (so an unfollow can be undone at once);
 * the lists are marked stale, not refetched, and show the change the next time they load. */
function useRowFollow(userId: number, onDone: (following: boolean) => void) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async (follow: boolean) =>
      follow
        ? (await unwrap(api.POST("/api/follows", { body: { userId } }))).following
        : (await unwrap(api.DELETE("/api/follows/{userId}", { params: { path: { userId } } }))).following,
    onSuccess: (following) => {
      onDone(following);
      qc.setQueryData(keys.followingLookup, (old: { ids: number[]; complete: boolean } | undefined) =>
        old
          ? { ...old, ids: following ? [...new Set([...old.ids, userId])] : old.ids.filter((i) => i !== userId) }
          : old,
      );
      void qc.invalidateQueries({ queryKey: keys.follows, refetchType: "none" });
      void qc.invalidateQueries({ queryKey: keys.users }); // follower counts on profiles
      void qc.invalidateQueries({ queryKey: keys.pitches }); // "from people you follow" lists
    },
  });
}

function FollowRow({
  item,
  which,
  known,
}: {
  item: FollowItem;
  which: Which;
  /** Whether I follow this person; null when the page does not know, undefined while it asks. */
  known: boolean | null | undefined;
}) {
  const u = item.user;
  const name = nameOf(u);
  const [override, setOverride] = useState<boolean | null>(null);
  const following = override ?? known;
  const m = useRowFollow(u.id, setOverride);
  const since = formatDate(item.followedAt);
  return (
    <li className={s.personRow}>
      <Avatar url={null} person={{ name: u.name, username: u.username }} small />
      <div className={s.personMain}>
        <Link to={`/users/${u.id}`} className={s.personName}>
          {name}
        </Link>
        <span className={s.muted}>
          {[u.username ? `@${u.username}` : null, PORTAL_LABEL[u.userType], u.companyName].filter(Boolean).join(" · ")}
        </span>
        <span className={s.muted}>
          {which === "following" ? `You followed them on ${since}` : `Followed you on ${since}`}
        </span>
        {m.isError && <Alert>{errorMessage(m.error)}</Alert>}
      </div>
      <div className={s.personAction}>
        {following === undefined ? null : following === null ? (
          <Link to={`/users/${u.id}`} aria-label={`Open profile of ${name} to follow`}>
            Open profile
          </Link>
        ) : (
          <Button
            small
            variant={following ? "secondary" : "primary"}
            busy={m.isPending}
            onClick={() => m.mutate(!following)}
            aria-label={following ? `Unfollow ${name}` : which === "followers" ? `Follow back ${name}` : `Follow ${name}`}
          >
            {following ? "Unfollow" : which === "followers" ? "Follow back" : "Follow"}
          </Button>
        )}
      </div>
    </li>
  );
}

export default function People() {
  const { tab } = useParams();
  const which: Which = tab === "followers" ? "followers" : "following";
  const [page, setPage] = useUrlPage();
  const session = useSession();
  const me = session.data ?? null;
  const list = useFollowList(which, page);
  const lookup = useFollowingLookup(which === "followers");
  const qc = useQueryClient();
  const title = which === "followers" ? "Your followers" : "People you follow";

  useEffect(() => {
    document.title = `${title} · Pitchey`;
  }, [title]);

  // A new follower arriving live: the followers list is out of date.
  useUserEvents((f: ServerFrame) => {
    if (f.type === "notification" && f.data.kind === "new_follower") {
      void qc.invalidateQueries({ queryKey: ["follows", "followers"] });
    }
  });

  let known: (u: Summary) => boolean | null | undefined = () => true;
  if (which === "followers") {
    const l = lookup.data;
    known = (u) =>
      l ? (l.ids.includes(u.id) ? true : l.complete ? false : null) : lookup.isPending ? undefined : null;
  }
  const total = list.data?.pagination.total ?? 0;

  return (
    <div className={s.page}>
      <PageHeader title={title}>
        {me && (
          <ButtonLink to={`/users/${me.id}`} variant="secondary" small>
            Your public profile
          </ButtonLink>
        )}
      </PageHeader>
      <nav className={s.tabs} aria-label="People">
        <NavLink to="/people/following">Following</NavLink>
        <NavLink to="/people/followers">Followers</NavLink>
      </nav>
      <section aria-labelledby="people-list">
        <h2 id="people-list" className="visually-hidden">
          {title}
        </h2>
        {list.isPending ? (
          <Loading label={which === "followers" ? "Loading your followers…" : "Loading the people you follow…"} />
        ) : list.isError ? (
          <ErrorState error={list.error} retry={() => void list.refetch()} />
        ) : list.data.items.length === 0 ? (
          <Empty>
            {page > 1 ? (
              "No one on this page."
            ) : which === "followers" ? (
              "No followers yet. People who follow you show up here."
            ) : (
              <>
                You follow no one yet. Follow creators from their profiles (a pitch links to its creator).{" "}
                <Link to="/browse">Browse pitches</Link>
              </>
            )}
          </Empty>
        ) : (
          <>
            <p className={s.muted} data-testid="people-total">
              {total === 1 ? "1 person" : `${total.toLocaleString("en-US")} people`}
            </p>
            <ul className={s.people} aria-label={title} aria-busy={list.isPlaceholderData || undefined}>
              {list.data.items.map((item) => (
                <FollowRow key={`${which}-${item.user.id}`} item={item} which={which} known={known(item.user)} />
              ))}
            </ul>
            <Pager pagination={list.data.pagination} onPage={setPage} label="People pages" busy={list.isFetching} />
          </>
        )}
      </section>
    </div>
  );
}
