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
> & { creator?: Schemas["UserSummary"] | null };

export function creatorName(c: Schemas["UserSummary"] | null | undefined): string | null {
  if (!c) return null;
  return c.companyName || c.name || c.username || null;
}

const STATUS_LABEL: Record<CardPitch["status"], string> = {
  draft: "Draft",
  published: "Published",
  archived: "Archived",
};

export interface PitchCardProps {
  pitch: CardPitch;
  /** A poster image URL (lists carry no media; a detail or a media query may provide one). */
  posterUrl?: string | null | undefined;
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

export function PitchCard({ pitch, posterUrl, headingLevel = 3, showStatus, to, footer, eyebrow }: PitchCardProps) {
  const H = `h${headingLevel}` as const;
  const who = creatorName(pitch.creator);
  const tags = [pitch.genre, pitch.format].filter((t): t is string => Boolean(t && t.trim()));
  const locked = pitch.requireNda && pitch.protected;
  return (
    <article className={s.card} data-testid="pitch-card" data-pitch-id={pitch.id}>
      <div className={s.poster} aria-hidden="true">
        {posterUrl ? (
          <img src={posterUrl} alt="" loading="lazy" decoding="async" />
        ) : (
          <span className={s.initial}>{pitch.title.trim().charAt(0).toUpperCase() || "?"}</span>
        )}
      </div>
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
              <span aria-hidden="true">🔒</span> NDA
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
            <span aria-hidden="true">👁 </span>
            {formatCount(pitch.viewCount)} {pitch.viewCount === 1 ? "view" : "views"}
          </span>
          <span data-testid="card-likes">
            <span aria-hidden="true">♥ </span>
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
