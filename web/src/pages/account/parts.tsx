// Small pieces the account pages, the public profile and the dashboards' prompt share (kept out of
// the pages so a dashboard does not load the settings page's code).
import s from "./account.module.css";

const FIELD_LABEL: Record<string, string> = {
  firstName: "first name",
  lastName: "last name",
  username: "username",
  bio: "bio",
  company: "company",
  location: "location",
  website: "website",
  avatar: "avatar",
};

export function missingInWords(missing: readonly string[]): string {
  const words = missing.map((m) => FIELD_LABEL[m] ?? m);
  if (words.length <= 1) return words.join("");
  return `${words.slice(0, -1).join(", ")} and ${words[words.length - 1] ?? ""}`;
}

function initials(p: { firstName?: string | null; name?: string | null; username?: string | null }): string {
  const from = p.firstName || p.name || p.username || "?";
  return from.trim().charAt(0).toUpperCase() || "?";
}

export function Avatar({ url, person, small }: { url: string | null | undefined; person: Parameters<typeof initials>[0]; small?: boolean }) {
  const cls = small ? `${s.avatar} ${s.avatarSmall}` : s.avatar;
  return url ? <img className={cls} src={url} alt="" /> : <span className={cls} aria-hidden="true">{initials(person)}</span>;
}

