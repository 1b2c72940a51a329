// One pitch. Counters are live (view_update / like_update in the pitch's room patch keys.pitch(id)),
// "N people viewing now" comes from presence (signed-in only: anonymous visitors have no live
// connection), and when the creator approves our NDA the page refetches the pitch, so the
// protected fields appear without a reload.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { Link, useLocation, useParams } from "react-router";
import { api, ApiError, errorMessage, unwrap, type Schemas } from "../../api/client";
import { keys } from "../../api/keys";
import { useSession, type User } from "../../auth/session";
import { creatorName, EyeIcon, HeartIcon, LockIcon } from "../../components/PitchCard";
import { SaveButton } from "../../components/SaveButton";
import { formatCount, formatDate, formatDateTime, formatMoney, parseMoney } from "../../lib/format";
import { usePresence, useRoom, useUserEvents, type ServerFrame } from "../../realtime";
import { Alert, Badge, Button, ButtonLink, Card, ErrorState, Loading, TextArea, TextField } from "../../ui";
import { NdaTerms, usePitchNdaTemplate } from "./NdaTerms";
import s from "./public.module.css";

type Pitch = Schemas["CatalogPitchOut"];
type Nda = Schemas["NdaListItem"];
interface Media {
  id: number;
  kind: "poster" | "deck" | "video";
  url: string;
  filename: string | null;
  contentType: string;
  size: number;
  protected: boolean;
  /** A poster's thumbnails and original by width; a deck's or video's preview image. */
  srcset?: string | null;
  previewUrl?: string | null;
}

const outgoingKey = [...keys.ndas, "outgoing", "all"] as const;

export default function PitchDetail() {
  const { id: raw } = useParams();
  const id = Number(raw);
  if (!Number.isSafeInteger(id) || id <= 0) return <NotFound />;
  // A new id is a new page: no state (like, invest form) carries over.
  return <PitchPage key={id} id={id} />;
}

function NotFound() {
  const session = useSession();
  const location = useLocation();
  const anonymous = session.isSuccess && session.data === null;
  return (
    <Card>
      <h1>Pitch not found</h1>
      <p>
        This pitch does not exist, or it is not published.
        {anonymous && " Some pitches are shown only to signed-in investors and production companies."}
      </p>
      <div className={s.actions}>
        <ButtonLink to="/browse" variant="secondary">
          Browse pitches
        </ButtonLink>
        {anonymous && (
          <ButtonLink to={`/login?next=${encodeURIComponent(location.pathname)}`} variant="ghost">
            Sign in
          </ButtonLink>
        )}
      </div>
    </Card>
  );
}

function fileSize(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

function asMedia(list: Pitch["media"]): Media[] {
  return (list ?? []) as unknown as Media[];
}

function PitchPage({ id }: { id: number }) {
  const qc = useQueryClient();
  const location = useLocation();
  const session = useSession();
  const user = session.data ?? null;
  const [liked, setLiked] = useState(false);

  const pitch = useQuery({
    queryKey: keys.pitch(id),
    queryFn: () => unwrap(api.GET("/api/pitches/{id}", { params: { path: { id } } })),
  });

  // Live: the room's counters (absolute values, so applying them twice is harmless), and our own
  // like from another tab. Only signed-in people have a live connection.
  const room = user && pitch.isSuccess ? `pitch:${id}` : null;
  useRoom(room, (f: ServerFrame) => {
    const d = f.data;
    if (f.type === "view_update" && typeof d.views === "number") {
      const views = d.views;
      qc.setQueryData<Pitch>(keys.pitch(id), (p) => (p ? { ...p, viewCount: views } : p));
    } else if (f.type === "like_update" && typeof d.likes === "number") {
      const likes = d.likes;
      qc.setQueryData<Pitch>(keys.pitch(id), (p) => (p ? { ...p, likeCount: likes } : p));
      if (user && d.userId === user.id && typeof d.liked === "boolean") setLiked(d.liked);
    }
  });
  const presence = usePresence(room);

  // An NDA decision about this pitch: refetch it (the provider does too; a second invalidation is free).
  useUserEvents((f: ServerFrame) => {
    if (f.type.startsWith("nda_") && Number(f.data.pitchId) === id) {
      void qc.invalidateQueries({ queryKey: keys.pitch(id) });
      void qc.invalidateQueries({ queryKey: keys.ndas });
    }
  });

  const title = pitch.data?.title;
  useEffect(() => {
    if (!title) return;
    const before = document.title;
    document.title = `${title} · Pitchey`;
    return () => {
      document.title = before;
    };
  }, [title]);

  if (pitch.isPending) return <Loading label="Loading the pitch…" />;
  if (pitch.isError) {
    const e = pitch.error;
    if (e instanceof ApiError && e.status === 404) return <NotFound />;
    if (e instanceof ApiError && e.status === 403) {
      return (
        <Card>
          <h1>This pitch is not open to you</h1>
          <Alert kind="warn">{e.message}</Alert>
          <ButtonLink to="/browse" variant="secondary">
            Browse pitches
          </ButtonLink>
        </Card>
      );
    }
    return <ErrorState error={e} retry={() => void pitch.refetch()} />;
  }

  const p = pitch.data;
  const media = asMedia(p.media);
  // The newest poster, as on the cards (the list is oldest first).
  const poster = media.filter((m) => m.kind === "poster").at(-1);
  const files = media.filter((m) => m.kind !== "poster");
  const isOwner = user?.id === p.userId;
  const locked = p.requireNda && p.protected;
  const who = creatorName(p.creator);
  const next = encodeURIComponent(location.pathname);
  const viewers = presence.length;

  return (
    <article className={s.detail} aria-labelledby="pitch-title">
      <header className={s.head}>
        {poster && (
          <img
            className={s.posterImg}
            src={poster.url}
            srcSet={poster.srcset ?? undefined}
            // The head's column: the page less the 320 px aside; the whole width on phones.
            sizes={poster.srcset ? "(max-width: 900px) 100vw, 820px" : undefined}
            alt={`Poster for ${p.title}`}
          />
        )}
        <div className={s.titleBlock}>
          <h1 id="pitch-title">{p.title}</h1>
          {who && (
            <p className={s.byline}>
              by <Link to={`/users/${p.userId}`}>{who}</Link>
            </p>
          )}
          {p.logline && <p className={s.logline}>{p.logline}</p>}
          <div className={s.tags}>
            {p.genre && <Badge>{p.genre}</Badge>}
            {p.format && <Badge>{p.format}</Badge>}
            {p.requireNda && (
              <Badge tone="warn">
                <LockIcon /> NDA required
              </Badge>
            )}
            {p.status !== "published" && <Badge tone="primary">{p.status === "draft" ? "Draft" : "Archived"}</Badge>}
            {p.visibility === "investors_only" && <Badge tone="primary">Investors only</Badge>}
          </div>
        </div>
      </header>

      <div className={s.aside}>
        <Card className={s.activity} aria-label="Activity">
          <h2 className="visually-hidden">Activity</h2>
          <div className={s.counters}>
            <div className={s.counter}>
              <span className={s.counterValue} data-testid="view-count">
                {formatCount(p.viewCount)}
              </span>
              <span className={s.counterLabel}>
                <EyeIcon /> {p.viewCount === 1 ? "view" : "views"}
              </span>
            </div>
            <div className={s.counter}>
              <span className={s.counterValue} data-testid="like-count">
                {formatCount(p.likeCount)}
              </span>
              <span className={s.counterLabel}>
                <HeartIcon /> {p.likeCount === 1 ? "like" : "likes"}
              </span>
            </div>
            {isOwner && typeof p.saveCount === "number" && (
              <div className={s.counter}>
                <span className={s.counterValue} data-testid="save-count">
                  {formatCount(p.saveCount)}
                </span>
                <span className={s.counterLabel}>{p.saveCount === 1 ? "save" : "saves"}</span>
              </div>
            )}
          </div>
          {user && viewers > 0 && (
            <p className={s.presence} role="status" data-testid="presence">
              {viewers === 1 ? "1 person viewing now (you)" : `${formatCount(viewers)} people viewing now`}
            </p>
          )}
          <div className={s.actions}>
            {user ? (
              <LikeButton pitch={p} liked={liked} setLiked={setLiked} />
            ) : (
              <ButtonLink to={`/login?next=${next}`} variant="secondary" small>
                Sign in to like
              </ButtonLink>
            )}
            {user?.userType === "investor" && !isOwner && <SaveButton pitchId={p.id} />}
            {isOwner && (
              <ButtonLink to={`/creator/pitches/${p.id}/edit`} small>
                Edit pitch
              </ButtonLink>
            )}
            {user && !isOwner && (
              <ButtonLink to={`/messages/${p.userId}?pitch=${p.id}`} variant="secondary" small>
                Message the creator
              </ButtonLink>
            )}
            {user?.userType === "production" && p.status === "published" && (
              <ButtonLink to={`/production/projects/new?pitchId=${p.id}`} variant="secondary" small>
                Start a project
              </ButtonLink>
            )}
          </div>
        </Card>

        {p.requireNda && !isOwner && <NdaPanel pitch={p} user={user} next={next} />}

        {user?.userType === "investor" && <InvestPanel pitch={p} />}
      </div>

      <div className={s.main}>
        <Card aria-labelledby="synopsis-title">
          <h2 id="synopsis-title">Synopsis</h2>
          {locked ? (
            <LockedField text="The synopsis is shared only with people whose NDA the creator has approved." />
          ) : p.synopsis ? (
            <p className={s.synopsis} data-testid="synopsis">
              {p.synopsis}
            </p>
          ) : (
            <p className={s.byline}>No synopsis yet.</p>
          )}
        </Card>

        <Card aria-labelledby="details-title">
          <h2 id="details-title">Details</h2>
          <dl className={s.facts}>
            <dt>Genre</dt>
            <dd>{p.genre || "—"}</dd>
            <dt>Format</dt>
            <dd>{p.format || "—"}</dd>
            <dt>Target audience</dt>
            <dd>{p.targetAudience || "—"}</dd>
            <dt>Budget</dt>
            <dd data-testid="budget">
              {locked ? (
                <span className={s.byline}>
                  <LockIcon /> Locked until your NDA is approved
                </span>
              ) : p.budget !== null ? (
                formatMoney(String(p.budget))
              ) : (
                "—"
              )}
            </dd>
            <dt>Published</dt>
            <dd>{formatDate(p.publishedAt)}</dd>
          </dl>
        </Card>

        <Card aria-labelledby="media-title">
          <h2 id="media-title">Materials</h2>
          {files.length > 0 ? (
            <ul className={s.mediaList}>
              {files.map((m) => (
                <MediaItem key={m.id} item={m} />
              ))}
            </ul>
          ) : !locked ? (
            <p className={s.byline}>No deck or video yet.</p>
          ) : null}
          {locked && <LockedField text="The deck and other protected materials are shared only with people whose NDA the creator has approved." />}
        </Card>
      </div>
    </article>
  );
}

/** A deck shown in the page (the browser's PDF viewer in a same-origin frame) or a video with
 * controls (seeking uses range requests), each with a download link for browsers that show neither. */
function MediaItem({ item: m }: { item: Media }) {
  const label = `${m.kind === "deck" ? "Pitch deck" : "Video"}${m.filename ? `: ${m.filename}` : ""}`;
  return (
    <li className={s.mediaItem} data-testid={`media-${m.kind}`}>
      {m.kind === "deck" ? (
        <iframe className={s.deckFrame} src={m.url} title={label} loading="lazy" />
      ) : (
        <video
          className={s.video}
          src={m.url}
          poster={m.previewUrl ?? undefined}
          controls
          preload="metadata"
          aria-label={label}
        >
          Your browser cannot play this video here; download it below.
        </video>
      )}
      <p className={s.mediaLinks}>
        <a href={m.url} download={m.filename ?? true}>
          Download {m.kind === "deck" ? "the deck" : "the video"}
          {m.filename ? ` (${m.filename})` : ""}
        </a>
        <span className={s.byline}>{fileSize(m.size)}</span>
        {m.kind === "deck" && (
          <a href={m.url} target="_blank" rel="noopener noreferrer">
            Open in a new tab
          </a>
        )}
      </p>
    </li>
  );
}

function LockedField({ text }: { text: string }) {
  return (
    <div className={s.locked} data-testid="locked">
      <LockIcon />
      <p>{text}</p>
    </div>
  );
}

function LikeButton({ pitch, liked, setLiked }: { pitch: Pitch; liked: boolean; setLiked: (v: boolean) => void }) {
  const qc = useQueryClient();
  const key = keys.pitch(pitch.id);
  const like = useMutation({
    mutationFn: (want: boolean) =>
      unwrap(
        want
          ? api.POST("/api/pitches/{id}/like", { params: { path: { id: pitch.id } }, body: {} })
          : api.DELETE("/api/pitches/{id}/like", { params: { path: { id: pitch.id } } }),
      ),
    // Optimistic: flip at once; the answer (the stored count) then corrects it either way.
    onMutate: async (want) => {
      await qc.cancelQueries({ queryKey: key, exact: true });
      const before = qc.getQueryData<Pitch>(key);
      setLiked(want);
      qc.setQueryData<Pitch>(key, (p) => (p ? { ...p, likeCount: Math.max(0, p.likeCount + (want ? 1 : -1)) } : p));
      return { before, was: !want };
    },
    onSuccess: (r) => {
      setLiked(r.liked);
      qc.setQueryData<Pitch>(key, (p) => (p ? { ...p, likeCount: r.likeCount } : p));
    },
    onError: (_e, _want, ctx) => {
      if (!ctx) return;
      setLiked(ctx.was);
      if (ctx.before) qc.setQueryData<Pitch>(key, (p) => (p ? { ...p, likeCount: ctx.before?.likeCount ?? p.likeCount } : p));
    },
  });
  return (
    <>
      <Button
        variant="secondary"
        small
        className={s.likeButton}
        aria-pressed={liked}
        disabled={like.isPending}
        onClick={() => like.mutate(!liked)}
      >
        <HeartIcon /> {liked ? "Liked" : "Like"}
      </Button>
      {like.isError && <Alert>{errorMessage(like.error)}</Alert>}
    </>
  );
}

function NdaPanel({ pitch, user, next }: { pitch: Pitch; user: User | null; next: string }) {
  const qc = useQueryClient();
  const fid = useId();
  const [message, setMessage] = useState("");
  const canRequest = user?.userType === "investor" || user?.userType === "production";
  const outgoing = useQuery({
    queryKey: outgoingKey,
    queryFn: () => unwrap(api.GET("/api/ndas/outgoing-requests", { params: { query: { status: "all", limit: 100 } } })),
    enabled: canRequest,
  });
  // The newest request for this pitch (the list is newest first).
  const mine: Nda | undefined = outgoing.data?.find((n) => n.pitchId === pitch.id);
  // The creator's NDA text, when the pitch names a template: read and accepted before asking.
  const terms = usePitchNdaTemplate(pitch.id, canRequest && pitch.protected && pitch.ndaTemplateId != null);
  const [accepted, setAccepted] = useState(false);
  const template = terms.data ?? null;

  const request = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/ndas/request", {
          body: {
            pitchId: pitch.id,
            message: message.trim() || null,
            acceptTemplateHash: accepted && template ? template.contentHash : null,
          },
        }),
      ),
    onSuccess: (nda) => {
      qc.setQueryData<Nda[]>(outgoingKey, (list) => [
        {
          ...nda,
          pitchTitle: pitch.title,
          otherParty: pitch.creator ?? { id: pitch.userId, username: null, name: null, companyName: null, userType: "creator" },
        },
        ...(list ?? []),
      ]);
      setMessage("");
    },
    onError: (e) => {
      // The creator changed the text since it was read: show the new version, to accept again.
      if (e instanceof ApiError && e.status === 409 && template) {
        setAccepted(false);
        void qc.invalidateQueries({ queryKey: keys.pitchNdaTemplate(pitch.id) });
      }
    },
    onSettled: () => void qc.invalidateQueries({ queryKey: keys.ndas }),
  });

  // Approved but the page still shows the locked pitch (the event raced the read): refetch it.
  const approvedButLocked = mine?.status === "approved" && pitch.protected;
  useEffect(() => {
    if (approvedButLocked) void qc.invalidateQueries({ queryKey: keys.pitch(pitch.id) });
  }, [approvedButLocked, pitch.id, qc]);

  function submit(e: FormEvent) {
    e.preventDefault();
    request.mutate();
  }

  let body: React.ReactNode;
  if (!pitch.protected) {
    body = (
      <Alert kind="success">
        Your NDA is approved: the synopsis, budget and protected materials are open to you.
      </Alert>
    );
  } else if (!user) {
    body = (
      <>
        <p>Sign in as an investor or a production company to request access.</p>
        <ButtonLink to={`/investor/login?next=${next}`} small>
          Sign in to request an NDA
        </ButtonLink>
      </>
    );
  } else if (!canRequest) {
    body = <p>Only investors and production companies can request an NDA.</p>;
  } else if (outgoing.isPending) {
    body = <Loading label="Checking your NDA requests…" />;
  } else if (outgoing.isError) {
    body = <ErrorState error={outgoing.error} retry={() => void outgoing.refetch()} />;
  } else if (mine?.status === "pending") {
    body = (
      <p data-testid="nda-status">
        <Badge tone="warn">Pending</Badge> You asked on {formatDateTime(mine.createdAt)}. This page opens the
        protected details as soon as the creator approves.
      </p>
    );
  } else if (mine?.status === "approved") {
    body = <Loading label="NDA approved: opening the details…" />;
  } else {
    body = (
      <form onSubmit={submit} noValidate>
        {mine?.status === "rejected" && (
          <Alert kind="warn">
            Your last request was declined{mine.reason ? `: ${mine.reason}` : "."} You may ask again.
          </Alert>
        )}
        {mine?.status === "revoked" && <Alert kind="warn">Your NDA was revoked. You may ask again.</Alert>}
        {mine?.status === "expired" && <Alert kind="warn">Your NDA expired at the end of its term. You may ask again.</Alert>}
        {pitch.ndaTemplateId != null && <NdaTerms query={terms} accepted={accepted} onAccept={setAccepted} />}
        {request.isError && <Alert>{errorMessage(request.error)}</Alert>}
        <TextArea id={`${fid}-msg`} label="Message to the creator (optional)" rows={3} maxLength={2000}
          value={message} onChange={(e) => setMessage(e.target.value)}
          error={request.error instanceof ApiError ? request.error.fieldErrors().message : undefined} />
        <Button type="submit" busy={request.isPending}
          disabled={pitch.ndaTemplateId != null && (terms.isPending || (template !== null && !accepted))}>
          {pitch.ndaTemplateId != null ? "Accept and request NDA" : "Request NDA"}
        </Button>
      </form>
    );
  }

  return (
    <Card aria-labelledby={`${fid}-title`}>
      <h2 id={`${fid}-title`}>
        <LockIcon /> NDA
      </h2>
      {body}
    </Card>
  );
}

function InvestPanel({ pitch }: { pitch: Pitch }) {
  const qc = useQueryClient();
  const fid = useId();
  const [amount, setAmount] = useState("");
  const [localError, setLocalError] = useState<string | undefined>();
  // One key per intended investment: a retry after a lost answer is not a second investment.
  const idemKey = useRef<string | null>(null);
  const invest = useMutation({
    mutationFn: (value: string) => {
      idemKey.current ??= crypto.randomUUID();
      return unwrap(
        api.POST("/api/investments/create", {
          body: { pitchId: pitch.id, amount: value },
          headers: { "Idempotency-Key": idemKey.current },
        }),
      );
    },
    onSuccess: () => {
      idemKey.current = null;
      setAmount("");
      void qc.invalidateQueries({ queryKey: keys.investments });
      void qc.invalidateQueries({ queryKey: keys.recommendations });
    },
  });

  if (pitch.requireNda && pitch.protected) {
    return (
      <Card aria-labelledby={`${fid}-title`}>
        <h2 id={`${fid}-title`}>Invest</h2>
        <p className={s.byline}>You can invest once your NDA for this pitch is approved.</p>
      </Card>
    );
  }

  const serverErr = invest.error instanceof ApiError ? invest.error : null;
  const fieldErr = localError ?? serverErr?.fieldErrors().amount;
  const generalErr = invest.isError && !fieldErr ? errorMessage(invest.error) : null;

  function submit(e: FormEvent) {
    e.preventDefault();
    const r = parseMoney(amount);
    if ("error" in r) {
      setLocalError(r.error);
      return;
    }
    setLocalError(undefined);
    invest.mutate(r.value);
  }

  return (
    <Card aria-labelledby={`${fid}-title`}>
      <h2 id={`${fid}-title`}>Invest</h2>
      {invest.isSuccess && (
        <Alert kind="success">
          You invested {formatMoney(invest.data.amount)} in {invest.data.pitchTitle} (status: {invest.data.status}).{" "}
          <Link to="/investor/portfolio">See your portfolio</Link>
        </Alert>
      )}
      {generalErr && <Alert>{generalErr}</Alert>}
      <form onSubmit={submit} noValidate>
        <TextField id={`${fid}-amount`} label="Amount (USD)" name="amount" inputMode="decimal" autoComplete="off"
          placeholder="2500.00" value={amount} error={fieldErr} hint="A positive amount, at most 2 decimals."
          onChange={(e) => {
            setAmount(e.target.value);
            setLocalError(undefined);
            // Another amount is another investment.
            idemKey.current = null;
          }} />
        <Button type="submit" busy={invest.isPending}>
          Invest
        </Button>
      </form>
    </Card>
  );
}
