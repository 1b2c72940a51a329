// /users/:id: a person's public profile (never their email): who they are, follower counts, a
// follow/unfollow button for signed-in people, and their published pitches they let the viewer see.
import { useEffect } from "react";
import { Link, useParams } from "react-router";
import { errorMessage } from "../../api/client";
import { PORTAL_LABEL, useSession } from "../../auth/session";
import { PitchCard, PitchGrid, PitchGridItem } from "../../components/PitchCard";
import { formatCount, formatDate } from "../../lib/format";
import { Alert, Button, ButtonLink, Card, Empty, ErrorState, Loading } from "../../ui";
import { useUrlPage } from "../shared/paging";
import { PUBLIC_PAGE_SIZE, useFollow, usePublicUser, type PublicUser } from "./data";
import { Avatar } from "./parts";
import s from "./account.module.css";

function displayName(u: PublicUser): string {
  return u.name || [u.firstName, u.lastName].filter(Boolean).join(" ") || u.username || u.company || `User ${u.id}`;
}

export default function UserProfile() {
  const { id: raw } = useParams();
  const id = Number(raw);
  const [page, setPage] = useUrlPage();
  const q = usePublicUser(id, page);
  const session = useSession();
  const u = q.data?.user;
  useEffect(() => {
    document.title = u ? `${displayName(u)} · Pitchey` : "Profile · Pitchey";
  }, [u]);

  if (!Number.isSafeInteger(id) || id <= 0) return <ErrorState error={new Error("There is no such profile.")} />;
  if (q.isPending) return <Loading label="Loading the profile…" />;
  if (q.isError) return <ErrorState error={q.error} retry={() => void q.refetch()} />;
  const user = q.data.user;
  const total = q.data.total;
  const pages = Math.max(1, Math.ceil(total / PUBLIC_PAGE_SIZE));
  // The API lists only the signed-in person's own followers and following: link those counts.
  const mine = session.data?.id === user.id;
  const website = user.website && /^https?:\/\//i.test(user.website) ? user.website : null;

  return (
    <div className={s.page}>
      <Card aria-labelledby="person-name" className={s.personCard}>
        <div className={s.head}>
          <Avatar url={user.avatarUrl} person={user} />
          <div className={s.headMain}>
            <h1 id="person-name">{displayName(user)}</h1>
            <ul className={s.facts}>
              {user.username && <li>@{user.username}</li>}
              <li>{PORTAL_LABEL[user.userType]}</li>
              {user.company && <li>{user.company}</li>}
              {user.location && <li>{user.location}</li>}
              <li>Member since {formatDate(user.memberSince)}</li>
              {website && (
                <li>
                  <a href={website} rel="noopener noreferrer nofollow" target="_blank">
                    {website.replace(/^https?:\/\//i, "")}
                  </a>
                </li>
              )}
            </ul>
          </div>
          <FollowBox user={user} />
        </div>
        {user.bio && <p className={s.bio}>{user.bio}</p>}
        <div className={s.counts}>
          <CountOf to={mine ? "/people/followers" : null}>
            <span className={s.countValue} data-testid="follower-count">
              {formatCount(user.followerCount)}
            </span>{" "}
            <span className={s.countLabel}>{user.followerCount === 1 ? "follower" : "followers"}</span>
          </CountOf>
          <CountOf to={mine ? "/people/following" : null}>
            <span className={s.countValue} data-testid="following-count">
              {formatCount(user.followingCount)}
            </span>{" "}
            <span className={s.countLabel}>following</span>
          </CountOf>
          <div className={s.count}>
            <span className={s.countValue}>{formatCount(total)}</span>
            <span className={s.countLabel}>{total === 1 ? "pitch" : "pitches"}</span>
          </div>
        </div>
      </Card>

      <section aria-labelledby="their-pitches">
        <h2 id="their-pitches">Pitches</h2>
        {user.pitches.length === 0 ? (
          <Empty>{page > 1 ? "No pitches on this page." : "No published pitches you can see yet."}</Empty>
        ) : (
          <PitchGrid label={`Pitches by ${displayName(user)}`}>
            {user.pitches.map((p) => (
              <PitchGridItem key={p.id}>
                <PitchCard pitch={p} />
              </PitchGridItem>
            ))}
          </PitchGrid>
        )}
        {pages > 1 && (
          <nav className={s.pager} aria-label="Pitch pages">
            <Button small variant="secondary" disabled={page <= 1} onClick={() => setPage(page - 1)}>
              Previous
            </Button>
            <span>
              Page {page} of {pages}
            </span>
            <Button small variant="secondary" disabled={page >= pages} onClick={() => setPage(page + 1)}>
              Next
            </Button>
          </nav>
        )}
      </section>
    </div>
  );
}

function CountOf({ to, children }: { to: string | null; children: React.ReactNode }) {
  return (
    <div className={s.count}>
      {to ? (
        <Link to={to} className={s.countLink}>
          {children}
        </Link>
      ) : (
        children
      )}
    </div>
  );
}

function FollowBox({ user }: { user: PublicUser }) {
  const session = useSession();
  const me = session.data ?? null;
  const follow = useFollow(user.id);
  if (!me) {
    return (
      <ButtonLink to={`/login?next=${encodeURIComponent(`/users/${user.id}`)}`} variant="secondary" small>
        Sign in to follow
      </ButtonLink>
    );
  }
  if (me.id === user.id) {
    return (
      <ButtonLink to="/settings" variant="secondary" small>
        Edit your profile
      </ButtonLink>
    );
  }
  const following = user.following === true;
  return (
    <div className={s.avatarControls}>
      <Button
        small
        variant={following ? "secondary" : "primary"}
        aria-pressed={following}
        busy={follow.isPending}
        onClick={() => follow.mutate(!following)}
      >
        {following ? "Following" : "Follow"}
      </Button>
      {follow.isError && <Alert>{errorMessage(follow.error)}</Alert>}
      <Link to={`/messages/${user.id}`}>Send a message</Link>
    </div>
  );
}
