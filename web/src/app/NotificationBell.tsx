// The header bell: unread count, the latest notifications with mark-read, and a polite toast when
// one arrives live. The LiveProvider invalidates keys.notifications on every live `notification`,
// so the count follows without polling; the toast only says it out loud.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useId, useRef, useState, type CSSProperties } from "react";
import { Link, useLocation } from "react-router";
import { api, errorMessage, unwrap, type Schemas } from "../api/client";
import { keys } from "../api/keys";
import { useSession } from "../auth/session";
import { formatDateTime } from "../lib/format";
import { useUserEvents, type ServerFrame } from "../realtime";
import { Alert, Badge, Button, Empty, ErrorState, Loading } from "../ui";
import { notificationTarget } from "./notificationTarget";
import s from "./NotificationBell.module.css";

type Notification = Schemas["NotificationOut"];
interface Latest {
  items: Notification[];
  unreadCount: number;
}

const LIMIT = 8;
const TOAST_MS = 6000;
// Under keys.notifications, so the provider's invalidation of that prefix refreshes it.
const latestKey = [...keys.notifications, "latest"] as const;

async function fetchLatest(): Promise<Latest> {
  let meta: Record<string, unknown> | undefined;
  const items = await unwrap(
    api.GET("/api/notifications", { params: { query: { limit: LIMIT } } }).then((r) => {
      meta = r.data?.meta;
      return r;
    }),
  );
  const counted = meta?.unreadCount;
  return { items, unreadCount: typeof counted === "number" ? counted : items.filter((n) => !n.readAt).length };
}

function unreadLabel(n: number): string {
  return n === 0 ? "Notifications, none unread" : `Notifications, ${n} unread`;
}

function BellIcon() {
  return (
    <svg aria-hidden="true" focusable="false" width="20" height="20" viewBox="0 0 24 24" fill="none">
      <path
        d="M12 3a6 6 0 0 0-6 6v3.6L4.3 15.4A1 1 0 0 0 5.2 17h13.6a1 1 0 0 0 .9-1.6L18 12.6V9a6 6 0 0 0-6-6Zm-2 15a2 2 0 0 0 4 0"
        stroke="currentColor"
        strokeWidth="1.8"
        strokeLinejoin="round"
      />
    </svg>
  );
}

export function NotificationBell() {
  const session = useSession();
  const portal = session.data?.userType ?? null;
  const qc = useQueryClient();
  const location = useLocation();
  const [open, setOpen] = useState(false);
  // On a phone the panel spans the screen just below the bell, wherever the header wrapped it to.
  const [panelTop, setPanelTop] = useState(64);
  const [toast, setToast] = useState<{ title: string; at: number } | null>(null);
  const panelId = useId();
  const headingId = useId();
  const wrapRef = useRef<HTMLDivElement>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);

  const latest = useQuery({ queryKey: latestKey, queryFn: fetchLatest, enabled: portal !== null });
  const unread = latest.data?.unreadCount ?? 0;

  const setLatest = (fn: (d: Latest) => Latest) =>
    qc.setQueryData<Latest>(latestKey, (d) => (d ? fn(d) : d));
  const refresh = () => void qc.invalidateQueries({ queryKey: keys.notifications });

  const markOne = useMutation({
    mutationFn: (id: number) => unwrap(api.POST("/api/notifications/{id}/read", { params: { path: { id } }, body: {} })),
    onMutate: (id) => {
      const now = new Date().toISOString();
      setLatest((d) => {
        const hit = d.items.find((n) => n.id === id && !n.readAt);
        if (!hit) return d;
        return {
          items: d.items.map((n) => (n.id === id ? { ...n, readAt: now } : n)),
          unreadCount: Math.max(0, d.unreadCount - 1),
        };
      });
    },
    onSettled: refresh,
  });
  const markAll = useMutation({
    mutationFn: () => unwrap(api.POST("/api/notifications/read-all", { body: {} })),
    onMutate: () => {
      const now = new Date().toISOString();
      setLatest((d) => ({ items: d.items.map((n) => (n.readAt ? n : { ...n, readAt: now })), unreadCount: 0 }));
    },
    onSettled: refresh,
  });

  const close = useCallback((refocus: boolean) => {
    setOpen(false);
    if (refocus) buttonRef.current?.focus();
  }, []);

  // Open: focus moves into the panel; Escape or a click outside closes it.
  useEffect(() => {
    if (!open) return;
    headingRef.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") {
        e.preventDefault();
        close(true);
      }
    };
    const onPointer = (e: PointerEvent) => {
      if (wrapRef.current && !wrapRef.current.contains(e.target as Node)) close(false);
    };
    document.addEventListener("keydown", onKey);
    document.addEventListener("pointerdown", onPointer);
    return () => {
      document.removeEventListener("keydown", onKey);
      document.removeEventListener("pointerdown", onPointer);
    };
  }, [open, close]);

  // A notification arriving live: say it (politely) and show it for a moment.
  useUserEvents((f: ServerFrame) => {
    if (f.type !== "notification") return;
    // A message from the person whose conversation is open is seen arriving there already.
    const about = f.data.data as Record<string, unknown> | undefined;
    if (f.data.kind === "new_message" && location.pathname === `/messages/${String(about?.senderId)}`) return;
    const title = typeof f.data.title === "string" ? f.data.title : "New notification";
    setToast({ title, at: Date.now() });
  });
  useEffect(() => {
    if (!toast) return;
    const t = setTimeout(() => setToast(null), TOAST_MS);
    return () => clearTimeout(t);
  }, [toast]);

  if (portal === null) return null;
  const items = latest.data?.items ?? [];
  const mutationError = markOne.error ?? markAll.error;

  return (
    <div
      className={s.wrap}
      ref={wrapRef}
      onBlur={(e) => {
        // Tabbing out of the panel closes it, as leaving any popover would.
        if (open && e.relatedTarget instanceof Node && !e.currentTarget.contains(e.relatedTarget)) close(false);
      }}
    >
      <button
        ref={buttonRef}
        type="button"
        className={s.bell}
        aria-label={unreadLabel(unread)}
        aria-expanded={open}
        aria-controls={open ? panelId : undefined}
        onClick={(e) => {
          if (open) return close(false);
          setPanelTop(Math.round(e.currentTarget.getBoundingClientRect().bottom + 8));
          setOpen(true);
        }}
      >
        <BellIcon />
        {unread > 0 && (
          <span className={s.count} aria-hidden="true">
            {unread > 99 ? "99+" : unread}
          </span>
        )}
      </button>

      {open && (
        <div
          id={panelId}
          className={s.panel}
          role="dialog"
          aria-labelledby={headingId}
          style={{ "--bell-top": `${panelTop}px` } as CSSProperties}
        >
          <div className={s.head}>
            <h2 id={headingId} ref={headingRef} tabIndex={-1} className={s.heading}>
              Notifications
            </h2>
            <Button
              small
              variant="ghost"
              disabled={unread === 0}
              busy={markAll.isPending}
              onClick={() => markAll.mutate()}
            >
              Mark all read
            </Button>
          </div>
          <p className={s.seeAll}>
            <Link to="/notifications" onClick={() => close(false)}>
              See all notifications
            </Link>
          </p>
          {mutationError && <Alert kind="error">{errorMessage(mutationError)}</Alert>}
          {latest.isPending ? (
            <Loading label="Loading notifications…" />
          ) : latest.isError ? (
            <ErrorState error={latest.error} retry={() => void latest.refetch()} />
          ) : items.length === 0 ? (
            <Empty>No notifications yet.</Empty>
          ) : (
            <ul className={s.list}>
              {items.map((n) => {
                const to = notificationTarget(n.kind, n.data, portal);
                const text = (
                  <>
                    <span className={s.title}>
                      {!n.readAt && <Badge tone="primary">New</Badge>} {n.title}
                    </span>
                    {n.body && <span className={s.body}>{n.body}</span>}
                    <span className={s.time}>{formatDateTime(n.createdAt)}</span>
                  </>
                );
                return (
                  <li key={n.id} className={n.readAt ? s.item : `${s.item} ${s.unread}`}>
                    {to ? (
                      <Link
                        to={to}
                        className={s.link}
                        onClick={() => {
                          if (!n.readAt) markOne.mutate(n.id);
                          close(false);
                        }}
                      >
                        {text}
                      </Link>
                    ) : (
                      <div className={s.link}>{text}</div>
                    )}
                    {!n.readAt && (
                      <Button
                        small
                        variant="ghost"
                        className={s.mark}
                        aria-label={`Mark read: ${n.title}`}
                        onClick={() => markOne.mutate(n.id)}
                      >
                        Mark read
                      </Button>
                    )}
                  </li>
                );
              })}
            </ul>
          )}
        </div>
      )}

      <div role="status" aria-live="polite" className={toast ? s.toast : "visually-hidden"}>
        {toast ? `New notification: ${toast.title}` : ""}
      </div>
    </div>
  );
}
