// Direct messages: the conversations (with unread counts) beside the open one. A message sent to
// us arrives live as a `message` event in our own `user:<id>` room (rooms/room.py, direct_message):
// it is put into the open conversation's cache at once, and the thread list is refetched for its
// counts. Reading a conversation (GET /api/messages/{userId}) changes nothing; once its messages
// are on a visible page, what the other person sent is marked read with one
// POST /api/messages/conversations/{userId}/read up to the newest message shown (and again for
// messages arriving live while it is open).
import {
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
  type InfiniteData,
  type QueryClient,
} from "@tanstack/react-query";
import { useEffect, useId, useLayoutEffect, useMemo, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { Link, useParams, useSearchParams } from "react-router";
import { api, ApiError, errorMessage, unwrap, type Schemas } from "../../api/client";
import { keys } from "../../api/keys";
import { useSession, type User } from "../../auth/session";
import { formatCount, formatDateTime } from "../../lib/format";
import { useUserEvents, type ServerFrame } from "../../realtime";
import { Alert, Badge, Button, ButtonLink, Card, Empty, ErrorState, Loading, PageHeader, TextArea } from "../../ui";
import {
  displayName,
  markConversationRead,
  metaNumber,
  nextPage,
  unwrapPage,
  USER_TYPE_LABEL,
  type Message,
  type Page,
  type Person,
  type Thread,
} from "./data";
import s from "./shared.module.css";

const THREADS_LIMIT = 30;
const CONVERSATION_LIMIT = 30;
const MAX_LENGTH = 4000;

type Pages<T> = InfiniteData<Page<T>>;

// --- cache helpers ---------------------------------------------------------------------------

/** The conversation's messages, oldest first, each once (pages overlap when new ones arrive). */
function flatten(data: Pages<Message> | undefined): Message[] {
  const byId = new Map<number, Message>();
  for (const page of data?.pages ?? []) for (const m of page.items) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id - b.id);
}

/** Put one message into a cached conversation (newest first, so into the first page). */
function addToConversation(qc: QueryClient, counterpartId: number, m: Message): void {
  qc.setQueryData<Pages<Message>>(keys.conversation(counterpartId), (old) => {
    if (!old || old.pages.length === 0) return old;
    if (old.pages.some((p) => p.items.some((x) => x.id === m.id))) return old;
    const [first, ...rest] = old.pages;
    if (!first) return old;
    return { ...old, pages: [{ ...first, items: [m, ...first.items] }, ...rest] };
  });
}

function setReadAt(qc: QueryClient, counterpartId: number, ids: ReadonlySet<number>, at: string): void {
  qc.setQueryData<Pages<Message>>(keys.conversation(counterpartId), (old) =>
    old
      ? {
          ...old,
          pages: old.pages.map((p) => ({
            ...p,
            items: p.items.map((m) => (ids.has(m.id) && !m.readAt ? { ...m, readAt: at } : m)),
          })),
        }
      : old,
  );
}

/**
 * The thread list's counts changed: read it again. A read already under way may have started
 * before the change (TanStack Query would hand back that one for a list with no data yet), so it
 * is cancelled first.
 */
function refreshThreads(qc: QueryClient): void {
  void qc
    .cancelQueries({ queryKey: keys.messageThreads })
    .then(() => qc.invalidateQueries({ queryKey: keys.messageThreads }));
}

/** A live `message` frame's data as a stored message. */
function frameMessage(d: Record<string, unknown>): (Message & { pitchTitle: string | null }) | null {
  const { id, senderId, recipientId, content, createdAt } = d;
  if (typeof id !== "number" || typeof senderId !== "number" || typeof recipientId !== "number") return null;
  if (typeof content !== "string" || typeof createdAt !== "string") return null;
  return {
    id,
    senderId,
    recipientId,
    content,
    createdAt,
    pitchId: typeof d.pitchId === "number" ? d.pitchId : null,
    readAt: null,
    pitchTitle: typeof d.pitchTitle === "string" ? d.pitchTitle : null,
  };
}

function isNotFound(e: unknown): boolean {
  return e instanceof ApiError && e.status === 404;
}

// --- the page --------------------------------------------------------------------------------

export default function Messages() {
  const { userId: raw } = useParams();
  const session = useSession();
  const me = session.data;
  const otherId = raw === undefined ? null : Number(raw);
  const qc = useQueryClient();
  // Titles of pitches that messages are about, learnt from live frames (REST gives only the id).
  const [pitchTitles, setPitchTitles] = useState<ReadonlyMap<number, string>>(new Map());

  useEffect(() => {
    const before = document.title;
    document.title = "Messages · Pitchey";
    return () => {
      document.title = before;
    };
  }, []);

  useUserEvents(
    (f: ServerFrame) => {
      if (!me) return;
      if (f.type === "notification") {
        // The "new message" notification of a message seen arriving in the open conversation is
        // read too, so the bell does not count what was just read here.
        const about = f.data.data as Record<string, unknown> | undefined;
        const id = f.data.id;
        if (
          f.data.kind === "new_message" &&
          typeof id === "number" &&
          otherId !== null &&
          about?.senderId === otherId &&
          document.visibilityState === "visible"
        ) {
          void unwrap(api.POST("/api/notifications/{id}/read", { params: { path: { id } }, body: {} })).then(
            () => qc.invalidateQueries({ queryKey: keys.notifications }),
            () => undefined, // still unread: the bell shows it, nothing is lost
          );
        }
        return;
      }
      if (f.type !== "message") return;
      const m = frameMessage(f.data);
      if (!m) return;
      const counterpart = m.senderId === me.id ? m.recipientId : m.senderId;
      const { pitchTitle, ...stored } = m;
      if (pitchTitle && m.pitchId !== null) {
        const pid = m.pitchId;
        setPitchTitles((t) => (t.get(pid) === pitchTitle ? t : new Map(t).set(pid, pitchTitle)));
      }
      addToConversation(qc, counterpart, stored);
      // The open conversation marks it read first and then refreshes the list (no flash of
      // "1 unread"); any other conversation's count changes now.
      if (counterpart !== otherId) refreshThreads(qc);
    },
    // Events may have been missed (a long disconnect): read everything again.
    () => void qc.invalidateQueries({ queryKey: keys.messages }),
  );

  if (!me) return <Loading />;
  const valid = otherId === null || (Number.isSafeInteger(otherId) && otherId > 0);

  return (
    <>
      <PageHeader title="Messages" />
      <div className={s.messages} data-open={otherId !== null}>
        <div className={s.threadsPane}>
          <ThreadList me={me} current={otherId} />
        </div>
        <div className={s.conversationPane}>
          {otherId === null ? (
            <div className={s.placeholder}>Choose a conversation to read it here.</div>
          ) : !valid ? (
            <Card className={s.conversation}>
              <h2>Conversation not found</h2>
              <Alert>There is no person with that id.</Alert>
              <ButtonLink to="/messages" variant="secondary">
                All conversations
              </ButtonLink>
            </Card>
          ) : (
            <Conversation key={otherId} me={me} otherId={otherId} pitchTitles={pitchTitles} />
          )}
        </div>
      </div>
    </>
  );
}

// --- threads ---------------------------------------------------------------------------------

/** The thread list; `fresh` reads it anew on mount (the list itself), else the cache will do. */
function useThreads(fresh: boolean) {
  return useInfiniteQuery({
    queryKey: keys.messageThreads,
    queryFn: ({ pageParam }) =>
      unwrapPage(api.GET("/api/messages", { params: { query: { page: pageParam, limit: THREADS_LIMIT } } })),
    initialPageParam: 1,
    getNextPageParam: nextPage,
    // Messages that arrived while this page was closed are not in the cache: read the list anew.
    refetchOnMount: fresh ? "always" : false,
  });
}

function ThreadList({ me, current }: { me: User; current: number | null }) {
  const threads = useThreads(true);
  const headingId = useId();
  const items = useMemo(() => {
    const seen = new Set<number>();
    const out: Thread[] = [];
    for (const p of threads.data?.pages ?? [])
      for (const t of p.items)
        if (!seen.has(t.counterpart.id)) {
          seen.add(t.counterpart.id);
          out.push(t);
        }
    return out;
  }, [threads.data]);
  const unread = metaNumber(threads.data?.pages[0]?.meta, "unreadCount") ?? 0;

  return (
    <Card className={s.threadsCard} aria-labelledby={headingId}>
      <div className={s.threadsHead}>
        <h2 id={headingId}>Conversations</h2>
        {threads.isSuccess && (
          <span className={s.muted} data-testid="unread-total">
            {unread === 0 ? "All read" : `${formatCount(unread)} unread`}
          </span>
        )}
      </div>
      {threads.isPending ? (
        <Loading label="Loading conversations…" />
      ) : threads.isError ? (
        <ErrorState error={threads.error} retry={() => void threads.refetch()} />
      ) : items.length === 0 ? (
        <Empty>
          No conversations yet. Start one with “Message the creator” on a pitch page.
        </Empty>
      ) : (
        <>
          <ul className={s.threads} aria-labelledby={headingId}>
            {items.map((t) => (
              <ThreadItem key={t.counterpart.id} thread={t} me={me} current={current === t.counterpart.id} />
            ))}
          </ul>
          {threads.hasNextPage && (
            <div className={s.more}>
              <Button variant="secondary" small busy={threads.isFetchingNextPage} onClick={() => void threads.fetchNextPage()}>
                Show more conversations
              </Button>
            </div>
          )}
        </>
      )}
    </Card>
  );
}

const timeFmt = new Intl.DateTimeFormat("en-US", { timeStyle: "short" });
const dayFmt = new Intl.DateTimeFormat("en-US", { month: "short", day: "numeric" });
const yearFmt = new Intl.DateTimeFormat("en-US", { dateStyle: "medium" });

/** "3:12 PM" today, "Nov 28" this year, "Nov 28, 2025" before: the list has little room. */
function shortTime(iso: string): string {
  const d = new Date(iso);
  const now = new Date();
  if (d.toDateString() === now.toDateString()) return timeFmt.format(d);
  return d.getFullYear() === now.getFullYear() ? dayFmt.format(d) : yearFmt.format(d);
}

function ThreadItem({ thread, me, current }: { thread: Thread; me: User; current: boolean }) {
  const who = displayName(thread.counterpart);
  const last = thread.lastMessage;
  const mine = last.senderId === me.id;
  const unread = thread.unreadCount;
  return (
    <li data-thread-id={thread.counterpart.id}>
      <Link
        to={`/messages/${thread.counterpart.id}`}
        className={unread > 0 ? `${s.thread} ${s.unreadThread}` : s.thread}
        aria-current={current ? "page" : undefined}
      >
        <span className={s.threadName}>{who}</span>
        <time className={s.threadTime} dateTime={last.createdAt} title={formatDateTime(last.createdAt)}>
          {shortTime(last.createdAt)}
        </time>
        <span className={s.threadPreview}>
          {mine ? "You: " : ""}
          {last.content}
        </span>
        <span data-testid="thread-unread">
          {unread > 0 ? <Badge tone="primary">{`${formatCount(unread)} unread`}</Badge> : null}
        </span>
      </Link>
    </li>
  );
}

// --- one conversation ------------------------------------------------------------------------

function useConversation(otherId: number) {
  return useInfiniteQuery({
    queryKey: keys.conversation(otherId),
    queryFn: ({ pageParam }) =>
      unwrapPage(
        api.GET("/api/messages/{userId}", {
          params: { path: { userId: otherId }, query: { page: pageParam, limit: CONVERSATION_LIMIT } },
        }),
      ),
    initialPageParam: 1,
    getNextPageParam: nextPage,
    refetchOnMount: "always",
  });
}

/** Whether the tab is shown: a message is marked read only when a person could have seen it. */
function usePageVisible(): boolean {
  const [visible, setVisible] = useState(() => document.visibilityState === "visible");
  useEffect(() => {
    const on = () => setVisible(document.visibilityState === "visible");
    document.addEventListener("visibilitychange", on);
    return () => document.removeEventListener("visibilitychange", on);
  }, []);
  return visible;
}

/**
 * Marks what the other person sent and we have not read yet, once it is on a visible page: one
 * POST for the conversation, up to the newest such message shown (each message asked for once).
 */
function useMarkRead(me: User, otherId: number, messages: Message[]): void {
  const qc = useQueryClient();
  const visible = usePageVisible();
  const tried = useRef(new Set<number>());
  const unread = useMemo(
    () => messages.filter((m) => m.recipientId === me.id && m.senderId === otherId && !m.readAt && !tried.current.has(m.id)),
    [messages, me.id, otherId],
  );
  useEffect(() => {
    if (!visible || unread.length === 0) return;
    for (const m of unread) tried.current.add(m.id);
    const ids = new Set(unread.map((m) => m.id));
    const upTo = Math.max(...ids);
    markConversationRead(otherId, upTo).then(
      () => {
        setReadAt(qc, otherId, ids, new Date().toISOString());
        refreshThreads(qc);
      },
      () => {
        // Still unread on the server: let a later render try these again.
        for (const id of ids) tried.current.delete(id);
      },
    );
  }, [unread, visible, otherId, qc]);
}

function Conversation({
  me,
  otherId,
  pitchTitles,
}: {
  me: User;
  otherId: number;
  pitchTitles: ReadonlyMap<number, string>;
}) {
  const qc = useQueryClient();
  const [search, setSearch] = useSearchParams();
  const conversation = useConversation(otherId);
  // Only for the person's name: the list beside it keeps the threads fresh.
  const threads = useThreads(false);
  const messages = useMemo(() => flatten(conversation.data), [conversation.data]);
  useMarkRead(me, otherId, messages);

  // "Message the creator" from a pitch page: /messages/<owner>?pitch=<id> writes about that pitch.
  const rawPitch = Number(search.get("pitch"));
  const pitchParam = Number.isSafeInteger(rawPitch) && rawPitch > 0 ? rawPitch : null;
  const pitch = useQuery({
    queryKey: keys.pitch(pitchParam ?? 0),
    queryFn: () => unwrap(api.GET("/api/pitches/{id}", { params: { path: { id: pitchParam ?? 0 } } })),
    enabled: pitchParam !== null,
  });
  const aboutPitch = pitch.data && pitch.data.userId === otherId ? pitch.data : null;

  const thread = threads.data?.pages.flatMap((p) => p.items).find((t) => t.counterpart.id === otherId);
  const person: Person | null = thread?.counterpart ?? aboutPitch?.creator ?? null;
  const who = person ? displayName(person) : `User ${otherId}`;
  const titles = useMemo(() => {
    const t = new Map(pitchTitles);
    if (aboutPitch) t.set(aboutPitch.id, aboutPitch.title);
    return t;
  }, [pitchTitles, aboutPitch]);

  const headingId = useId();
  // Failed with nothing to show (a failed "load older" keeps what was shown).
  const failed = conversation.isError && conversation.data === undefined;

  if (otherId === me.id) {
    return (
      <Card className={s.conversation}>
        <h2>This is you</h2>
        <Alert kind="info">You cannot message yourself. Pick someone else’s conversation.</Alert>
      </Card>
    );
  }

  return (
    <Card className={s.conversation} aria-labelledby={headingId}>
      <div className={s.convHead}>
        <Link to="/messages" className={s.back}>
          ← All conversations
        </Link>
        <h2 id={headingId}>
          {!failed ? `Conversation with ${who}` : isNotFound(conversation.error) ? "No such person" : "Conversation"}
        </h2>
        {person && <span className={s.muted}>{USER_TYPE_LABEL[person.userType]}</span>}
      </div>
      {conversation.isPending ? (
        <Loading label="Loading the conversation…" />
      ) : failed ? (
        <>
          <ErrorState
            error={conversation.error}
            retry={isNotFound(conversation.error) ? undefined : () => void conversation.refetch()}
          />
          <div>
            <ButtonLink to="/messages" variant="secondary">
              All conversations
            </ButtonLink>
          </div>
        </>
      ) : (
        <>
          <MessageLog
            me={me}
            who={who}
            messages={messages}
            titles={titles}
            hasOlder={conversation.hasNextPage}
            loadingOlder={conversation.isFetchingNextPage}
            olderError={conversation.isFetchNextPageError ? conversation.error : null}
            loadOlder={() => void conversation.fetchNextPage()}
          />
          <Composer
            key={otherId}
            otherId={otherId}
            who={who}
            pitch={aboutPitch}
            clearPitch={() => {
              const next = new URLSearchParams(search);
              next.delete("pitch");
              setSearch(next, { replace: true });
            }}
            onSent={(m) => {
              addToConversation(qc, otherId, m);
              refreshThreads(qc);
            }}
          />
        </>
      )}
    </Card>
  );
}

function MessageLog({
  me,
  who,
  messages,
  titles,
  hasOlder,
  loadingOlder,
  olderError,
  loadOlder,
}: {
  me: User;
  who: string;
  messages: Message[];
  titles: ReadonlyMap<number, string>;
  hasOlder: boolean;
  loadingOlder: boolean;
  olderError: unknown;
  loadOlder: () => void;
}) {
  const logRef = useRef<HTMLDivElement>(null);
  const oldestId = messages[0]?.id ?? null;
  const newestId = messages[messages.length - 1]?.id ?? null;
  const prev = useRef<{ oldest: number | null; newest: number | null; height: number; atBottom: boolean }>({
    oldest: null,
    newest: null,
    height: 0,
    atBottom: true,
  });

  // Keep the view where the reader is: older messages loaded above keep the scroll position; a
  // new message below scrolls into view when the reader was at the bottom (or wrote it).
  useLayoutEffect(() => {
    const el = logRef.current;
    if (!el) return;
    const p = prev.current;
    const newest = messages[messages.length - 1];
    if (p.newest === null) {
      el.scrollTop = el.scrollHeight;
    } else if (oldestId !== p.oldest && newestId === p.newest) {
      el.scrollTop += el.scrollHeight - p.height;
    } else if (newestId !== p.newest && (p.atBottom || newest?.senderId === me.id)) {
      el.scrollTop = el.scrollHeight;
    }
    prev.current = {
      oldest: oldestId,
      newest: newestId,
      height: el.scrollHeight,
      atBottom: el.scrollHeight - el.scrollTop - el.clientHeight < 40,
    };
  }, [oldestId, newestId, messages, me.id]);

  return (
    <div
      ref={logRef}
      className={s.log}
      role="log"
      aria-label={`Messages with ${who}`}
      tabIndex={0}
      onScroll={(e) => {
        const el = e.currentTarget;
        prev.current.atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
        prev.current.height = el.scrollHeight;
      }}
    >
      {hasOlder && (
        <div className={s.more} style={{ marginTop: 0, marginBottom: 12 }}>
          <Button variant="secondary" small busy={loadingOlder} onClick={loadOlder}>
            Load older messages
          </Button>
        </div>
      )}
      {olderError !== null && <ErrorState error={olderError} retry={loadOlder} />}
      {messages.length === 0 ? (
        <Empty>No messages yet. Say hello to {who}.</Empty>
      ) : (
        <ol className={s.bubbles}>
          {messages.map((m, i) => {
            const mine = m.senderId === me.id;
            const title = m.pitchId !== null ? titles.get(m.pitchId) : undefined;
            // The pitch a run of messages is about is said once, where the run starts.
            const newTopic = m.pitchId !== null && messages[i - 1]?.pitchId !== m.pitchId;
            return (
              <li key={m.id} className={mine ? `${s.bubbleRow} ${s.mine}` : s.bubbleRow} data-message-id={m.id}>
                {newTopic && (
                  <p className={s.about}>
                    About <Link to={`/pitches/${m.pitchId}`}>{title ?? `pitch #${m.pitchId}`}</Link>
                  </p>
                )}
                <p className={s.bubble}>
                  <span className="visually-hidden">{mine ? "You: " : `${who}: `}</span>
                  {m.content}
                </p>
                <span className={s.bubbleMeta}>
                  {formatDateTime(m.createdAt)}
                  {mine && (m.readAt ? " · Read" : " · Sent")}
                </span>
              </li>
            );
          })}
        </ol>
      )}
    </div>
  );
}

function Composer({
  otherId,
  who,
  pitch,
  clearPitch,
  onSent,
}: {
  otherId: number;
  who: string;
  pitch: Schemas["CatalogPitchOut"] | null;
  clearPitch: () => void;
  onSent: (m: Message) => void;
}) {
  const fid = useId();
  const [text, setText] = useState("");
  const [localError, setLocalError] = useState<string | undefined>();
  const send = useMutation({
    mutationFn: (content: string) =>
      unwrap(
        api.POST("/api/messages/send", {
          body: pitch
            ? { pitchId: pitch.id, recipientId: null, content }
            : { recipientId: otherId, pitchId: null, content },
        }),
      ),
    onSuccess: (m) => {
      onSent(m);
      setText("");
    },
  });

  const serverErr = send.error instanceof ApiError ? send.error : null;
  const fieldErr = localError ?? serverErr?.fieldErrors().content;
  const generalErr = send.isError && !fieldErr ? errorMessage(send.error) : null;
  const length = text.length;

  function submit(e?: FormEvent) {
    e?.preventDefault();
    if (send.isPending) return;
    if (!text.trim()) {
      setLocalError("Write a message first.");
      return;
    }
    setLocalError(undefined);
    // What was typed stays in the box until the server has the message.
    send.mutate(text);
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      submit();
    }
  }

  return (
    <form className={s.composer} onSubmit={submit} noValidate aria-label={`Write to ${who}`}>
      {pitch && (
        <div className={s.context}>
          <span>
            About <Link to={`/pitches/${pitch.id}`}>{pitch.title}</Link>
          </span>
          <Button small variant="ghost" onClick={clearPitch}>
            Not about this pitch
          </Button>
        </div>
      )}
      {generalErr && <Alert>{generalErr}</Alert>}
      <TextArea
        id={`${fid}-text`}
        label={`Message to ${who}`}
        rows={3}
        value={text}
        error={fieldErr}
        hint="Ctrl+Enter (⌘+Enter) sends."
        onKeyDown={onKeyDown}
        onChange={(e) => {
          setText(e.target.value);
          setLocalError(undefined);
        }}
      />
      <div className={s.composerRow}>
        <span className={length > MAX_LENGTH ? s.over : s.muted} aria-live="polite">
          {length > MAX_LENGTH * 0.9 ? `${formatCount(length)} of ${formatCount(MAX_LENGTH)} characters` : ""}
        </span>
        <Button type="submit" busy={send.isPending}>
          Send
        </Button>
      </div>
    </form>
  );
}
