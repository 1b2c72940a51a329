// What the web app sends to Sentry carries no secret: the values of sensitive keys (Authorization,
// cookies, passwords, tokens, emails, ...) anywhere in an event or breadcrumb are dropped, and
// JWTs, bearer tokens, `password=`-style pairs and email addresses are masked in every string (a
// page URL with ?q=someone@example.com, an error message quoting an address). The same rules as
// the server's (server/observability.py). The session is an HttpOnly cookie, so JS never holds a
// token to leak; this is for what the SDK collects by itself.

export const FILTERED = "[Filtered]";
export const EMAIL_MASK = "[email]";

const SENSITIVE_KEY = /authorization|cookie|passw|secret|token|jwt|e-?mail|api[-_]?key|credential|ticket|dsn/i;
// An address, also as a URL carries it (%40 for the @: a page's ?q=).
const EMAIL = /[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
const JWT = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+/g;
const BEARER = /(bearer\s+)[^\s,;"']+/gi;
const PAIR = /("?(?:password|passwd|secret|token|cookie|authorization)"?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,;}&]+)/gi;
const MAX_DEPTH = 20;

export function scrubText(text: string): string {
  return text
    .replace(JWT, "[REDACTED-JWT]")
    .replace(BEARER, "$1[REDACTED]")
    .replace(PAIR, "$1[REDACTED]")
    .replace(EMAIL, EMAIL_MASK);
}

/** A copy of a JSON-like value with secrets removed. */
export function scrub<T>(value: T, depth = 0): T {
  return scrubValue(value, depth) as T;
}

function scrubValue(value: unknown, depth: number): unknown {
  if (typeof value === "string") return scrubText(value);
  if (value === null || typeof value !== "object") return value;
  if (depth > MAX_DEPTH) return FILTERED;
  if (Array.isArray(value)) {
    // Header lists are [name, value] pairs: a sensitive name filters its value.
    if (value.length === 2 && typeof value[0] === "string" && SENSITIVE_KEY.test(value[0])) {
      return [value[0], FILTERED];
    }
    return value.map((item) => scrubValue(item, depth + 1));
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return value; // Errors, Dates: the SDK's own
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SENSITIVE_KEY.test(key) && item !== null && item !== undefined && item !== "" ? FILTERED : scrubValue(item, depth + 1);
  }
  return out;
}
