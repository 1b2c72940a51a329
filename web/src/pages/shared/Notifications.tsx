// All notifications, newest first, with an unread filter kept in the URL; mark one or all read;
// a click goes to what the notification is about (the same targets as the header bell). New ones
// appear live: the LiveProvider invalidates keys.notifications on every `notification` event,
// which refetches this list (it lives under that prefix).
import { useInfiniteQuery, useMutation, useQueryClient, type InfiniteData } from "@tanstack/react-query";
import { useEffect, useMemo } from "react";
import { Link, useSearchParams } from "react-router";
import { api, errorMessage, unwrap } from "../../api/client";
import { keys } from "../../api/keys";
import { notificationTarget } from "../../app/notificationTarget";
import { useSession, type Portal } from "../../auth/session";
import { formatCount, formatDateTime } from "../../lib/format";
import { kindInfo } from "../../lib/notificationKinds";
import { Alert, Badge, Button, Card, Empty, ErrorState, Loading, PageHeader } from "../../ui";
import { metaNumber, nextPage, unwrapPage, type Notification, type Page } from "./data";
import s from "./shared.module.css";

const LIMIT = 20;
type Pages = InfiniteData<Page<Notification>>;


function useNotificationPages(unreadOnly: boolean) {
  return useInfiniteQuery({
    queryKey: keys.notificationPages(unreadOnly),
    queryFn: ({ pageParam }) =>
      unwrapPage(
        api.GET("/api/notifications", {
          params: { query: { page: pageParam, limit: LIMIT, ...(unreadOnly ? { unreadOnly: true } : {}) } },
        }),
      ),
    initialPageParam: 1,
    getNextPageParam: nextPage,
  });
}

export default function Notifications() {
  const session = useSession();
  const portal = session.data?.userType ?? null;
  const [search] = useSearchParams();
  const unreadOnly = search.get("filter") === "unread";
  const qc = useQueryClient();
  const list = useNotificationPages(unreadOnly);

  useEffect(() => {
    const before = document.title;
    document.title = "Notifications · Pitchey";
    return () => {
      document.title = before;
    };
  }, []);

  const items = useMemo(() => {
    const byId = new Map<number, Notification>();
    for (const p of list.data?.pages ?? []) for (const n of p.items) if (!byId.has(n.id)) byId.set(n.id, n);
    return [...byId.values()];
  }, [list.data]);
  const unread = metaNumber(list.data?.pages[0]?.meta, "unreadCount");

  /** Every cached page of both filters, with `fn` applied to each notification. */
  const patchAll = (fn: (n: Notification) => Notification) => {
    qc.setQueriesData<Pages>({ queryKey: [...keys.notifications, "pages"] }, (old) =>
      old ? { ...old, pages: old.pages.map((p) => ({ ...p, items: p.items.map(fn) })) } : old,
    );
  };
  const refresh = () => void qc.invalidateQueries({ queryKey: keys.notifications });

  const markOne = useMutation({
    mutationFn: (id: number) =>
      unwrap(api.POST("/api/notifications/{id}/read", { params: { path: { id } }, body: {} })),
    onMutate: (id) => {
      const now = new Date().toISOString();
      patchAll((n) => (n.id === id && !n.readAt ? { ...n, readAt: now } : n));
    },
    onSettled: refresh,
  });
  const markAll = useMutation({
    mutationFn: () => unwrap(api.POST("/api/notifications/read-all", { body: {} })),
    onMutate: () => {
      const now = new Date().toISOString();
      patchAll((n) => (n.readAt ? n : { ...n, readAt: now }));
    },
    onSettled: refresh,
  });
  const mutationError = markOne.error ?? markAll.error;

  return (
    <>
      <PageHeader title="Notifications">
        <Button
          variant="secondary"
          small
          disabled={!unread}
          busy={markAll.isPending}
          onClick={() => markAll.mutate()}
        >
          Mark all read
        </Button>
      </PageHeader>
      <nav aria-label="Filter notifications">
        <ul className={s.tabs}>
          <li>
            <Link to="/notifications" aria-current={!unreadOnly ? "page" : undefined}>
              All
            </Link>
          </li>
          <li>
            <Link to="/notifications?filter=unread" aria-current={unreadOnly ? "page" : undefined}>
              Unread
            </Link>
          </li>
        </ul>
      </nav>
      <p className={`${s.muted} ${s.summary}`} role="status" data-testid="unread-summary">
        {unread === null ? "" : unread === 0 ? "Nothing unread." : `${formatCount(unread)} unread`}
      </p>
      {mutationError && <Alert>{errorMessage(mutationError)}</Alert>}
      {markAll.isSuccess && markAll.data.marked > 0 && (
        <Alert kind="success">
          Marked {formatCount(markAll.data.marked)} {markAll.data.marked === 1 ? "notification" : "notifications"} read.
        </Alert>
      )}
      {list.isPending ? (
        <Loading label="Loading notifications…" />
      ) : list.data === undefined ? (
        <ErrorState error={list.error} retry={() => void list.refetch()} />
      ) : items.length === 0 ? (
        <Empty>
          {unreadOnly
            ? "Nothing unread: you are all caught up. New notifications appear here as they arrive."
            : "No notifications yet. NDA decisions, messages, investments and new followers appear here as they happen."}
        </Empty>
      ) : (
        <>
          <ul className={s.noteList} aria-label={unreadOnly ? "Unread notifications" : "Notifications"}>
            {items.map((n) => (
              <NotificationItem
                key={n.id}
                n={n}
                portal={portal}
                onOpen={() => {
                  if (!n.readAt) markOne.mutate(n.id);
                }}
                onMark={() => markOne.mutate(n.id)}
              />
            ))}
          </ul>
          {list.isFetchNextPageError && <ErrorState error={list.error} retry={() => void list.fetchNextPage()} />}
          {list.hasNextPage && (
            <div className={s.more}>
              <Button variant="secondary" busy={list.isFetchingNextPage} onClick={() => void list.fetchNextPage()}>
                Show older notifications
              </Button>
            </div>
          )}
        </>
      )}
    </>
  );
}

function NotificationItem({
  n,
  portal,
  onOpen,
  onMark,
}: {
  n: Notification;
  portal: Portal | null;
  onOpen: () => void;
  onMark: () => void;
}) {
  const to = portal ? notificationTarget(n.kind, n.data, portal) : null;
  const kind = kindInfo(n.kind).one;
  return (
    <li data-notification-id={n.id}>
      <Card className={n.readAt ? s.note : `${s.note} ${s.noteUnread}`}>
        <div className={s.noteMain}>
          <span className={s.noteTitle}>
            {!n.readAt && <Badge tone="primary">New</Badge>} {kind && <Badge>{kind}</Badge>}{" "}
            {to ? (
              <Link to={to} onClick={onOpen}>
                {n.title}
              </Link>
            ) : (
              n.title
            )}
          </span>
          {n.body && <p className={s.noteBody}>{n.body}</p>}
          <span className={s.noteTime}>{formatDateTime(n.createdAt)}</span>
        </div>
        {!n.readAt && (
          <Button small variant="ghost" aria-label={`Mark read: ${n.title}`} onClick={onMark}>
            Mark read
          </Button>
        )}
      </Card>
    </li>
  );
}
