// One pitch as a card: used by the landing page, browse, the investor dashboard and a creator's
// "My pitches". The whole card is one link (the title's link is stretched over it with CSS), so a
// keyboard user meets one tab stop per card and a screen reader hears the title as the link name.
import type { ReactNode } from "react";
import { Link } from "react-router";
import type { Schemas } from "../api/client";
import { formatCount } from "../lib/format";
import s from "./PitchCard.module.css";

export type CardPitch = Pick<
  Schemas["CatalogPitchOut"],
  "id" | "title" | "logline" | "genre" | "format" | "viewCount" | "likeCount" | "requireNda" | "protected" | "status"
> & { creator?: Schemas["UserSummary"] | null; posterUrl?: string | null; posterSrcset?: string | null };

export function creatorName(c: Schemas["UserSummary"] | null | undefined): string | null {
  if (!c) return null;
  return c.companyName || c.name || c.username || null;
}

// How wide the poster is drawn (PitchCard.module.css): a small box beside the text on phones,
// half the page in two columns, a column of the grid on wider screens. The browser picks the
// smallest candidate of the srcset that covers this at its pixel density.
const POSTER_SIZES = "(max-width: 560px) 120px, (max-width: 900px) 50vw, 300px";

const STATUS_LABEL: Record<CardPitch["status"], string> = {
  draft: "Draft",
  published: "Published",
  archived: "Archived",
};

// Icons are inline SVG (no emoji font is guaranteed, and they inherit the text colour).
export function LockIcon() {
  return (
    <svg className="icon" width="12" height="12" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path fill="currentColor" d="M12 2a5 5 0 0 0-5 5v3H6a2 2 0 0 0-2 2v8a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-8a2 2 0 0 0-2-2h-1V7a5 5 0 0 0-5-5Zm-3 8V7a3 3 0 1 1 6 0v3H9Z" />
    </svg>
  );
}

export function EyeIcon() {
  return (
    <svg className="icon" width="14" height="14" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path fill="currentColor" d="M12 5C6.5 5 2.7 9.1 1.5 12c1.2 2.9 5 7 10.5 7s9.3-4.1 10.5-7C21.3 9.1 17.5 5 12 5Zm0 11a4 4 0 1 1 0-8 4 4 0 0 1 0 8Zm0-2a2 2 0 1 0 0-4 2 2 0 0 0 0 4Z" />
    </svg>
  );
}

export function HeartIcon() {
  return (
    <svg className="icon" width="14" height="14" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path fill="currentColor" d="M12 21s-7.5-4.6-9.6-9.2C.9 8.5 3 4.5 6.8 4.5c2.1 0 3.6 1.1 5.2 3 1.6-1.9 3.1-3 5.2-3 3.8 0 5.9 4 4.4 7.3C19.5 16.4 12 21 12 21Z" />
    </svg>
  );
}

export interface PitchCardProps {
  pitch: CardPitch;
  /** A poster image URL; by default the list answer's `posterUrl` (the poster the viewer may see). */
  posterUrl?: string | null | undefined;
  /** Its `srcset` (thumbnails by width); by default the list answer's `posterSrcset` when the
   * poster is the list answer's own. */
  posterSrcset?: string | null | undefined;
  /** Heading level of the title inside the page's outline (default 3: cards sit under an h2). */
  headingLevel?: 2 | 3 | 4;
  /** Show the status badge (a creator's own list shows drafts and archived pitches). */
  showStatus?: boolean;
  /** Where the card leads (default: the public detail page). */
  to?: string;
  /** Extra content under the counters, outside the stretched link (e.g. an "Edit" link). */
  footer?: ReactNode;
  /** Extra line above the title (e.g. a recommendation's reason). */
  eyebrow?: ReactNode;
}

export function PitchCard({
  pitch,
  posterUrl,
  posterSrcset,
  headingLevel = 3,
  showStatus,
  to,
  footer,
  eyebrow,
}: PitchCardProps) {
  const H = `h${headingLevel}` as const;
  const who = creatorName(pitch.creator);
  const tags = [pitch.genre, pitch.format].filter((t): t is string => Boolean(t && t.trim()));
  const locked = pitch.requireNda && pitch.protected;
  const poster = posterUrl ?? pitch.posterUrl;
  // The original stays the src (until the thumbnails exist, and for browsers without srcset).
  const srcSet = (posterUrl != null ? posterSrcset : pitch.posterSrcset) ?? undefined;
  return (
    <article className={s.card} data-testid="pitch-card" data-pitch-id={pitch.id}>
      {poster ? (
        <div className={s.poster}>
          <img
            src={poster}
            srcSet={srcSet}
            sizes={srcSet ? POSTER_SIZES : undefined}
            alt={pitch.title}
            loading="lazy"
            decoding="async"
          />
        </div>
      ) : (
        <div className={s.poster} aria-hidden="true">
          <span className={s.initial}>{pitch.title.trim().charAt(0).toUpperCase() || "?"}</span>
        </div>
      )}
      <div className={s.body}>
        {eyebrow && <div className={s.eyebrow}>{eyebrow}</div>}
        <H className={s.title}>
          <Link to={to ?? `/pitches/${pitch.id}`} className={s.link}>
            {pitch.title}
          </Link>
        </H>
        {who && <p className={s.creator}>by {who}</p>}
        {pitch.logline && <p className={s.logline}>{pitch.logline}</p>}
        <div className={s.tags}>
          {tags.map((t) => (
            <span key={t} className={s.tag}>
              {t}
            </span>
          ))}
          {pitch.requireNda && (
            <span className={`${s.tag} ${s.nda}`} title={locked ? "Some details need a signed NDA" : "NDA required"}>
              <LockIcon /> NDA
            </span>
          )}
          {showStatus && (
            <span className={`${s.tag} ${pitch.status === "published" ? s.published : s.muted}`}>
              {STATUS_LABEL[pitch.status]}
            </span>
          )}
        </div>
        <p className={s.counts}>
          <span data-testid="card-views">
            <EyeIcon />
            {formatCount(pitch.viewCount)} {pitch.viewCount === 1 ? "view" : "views"}
          </span>
          <span data-testid="card-likes">
            <HeartIcon />
            {formatCount(pitch.likeCount)} {pitch.likeCount === 1 ? "like" : "likes"}
          </span>
        </p>
        {footer && <div className={s.footer}>{footer}</div>}
      </div>
    </article>
  );
}

/** A responsive grid of cards (a list, so screen readers announce how many). */
export function PitchGrid({ children, label }: { children: ReactNode; label?: string }) {
  return (
    <ul className={s.grid} aria-label={label}>
      {children}
    </ul>
  );
}

export function PitchGridItem({ children }: { children: ReactNode }) {
  return <li className={s.item}>{children}</li>;
}
