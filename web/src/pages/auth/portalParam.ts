import { PORTALS, type Portal } from "../../auth/session";

export function asPortal(value: string | null | undefined): Portal | null {
  return PORTALS.find((p) => p === value) ?? null;
}

/** Only same-site paths: `?next=` must not send a person to another site after signing in. */
export function safeNext(value: string | null): string | null {
  return value && value.startsWith("/") && !value.startsWith("//") ? value : null;
}
