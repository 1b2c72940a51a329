// The typed API client. Types come from our own OpenAPI document (src/api/schema.d.ts is generated:
// `npm run gen:api`); every call goes through `unwrap`, which turns the envelope into data or an ApiError.
// Authentication is the HttpOnly session cookie: no token is ever read or stored by JS.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];

export const api = createClient<paths>({ baseUrl: "", credentials: "same-origin" });

export interface FieldError {
  field: string;
  message: string;
  type?: string;
}

/** An error the API answered with (its envelope), or a network failure (code NETWORK, status 0). */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: unknown;
  /** The server's id of the failed request (envelope `meta.requestId` or `X-Request-Id`), for support. */
  readonly requestId: string | undefined;

  constructor(code: string, message: string, status: number, details?: unknown, requestId?: string) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
    this.details = details;
    this.requestId = requestId || undefined;
  }

  /** VALIDATION_ERROR details by field name (`body.title` and `title` both give `title`). */
  fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    if (this.code !== "VALIDATION_ERROR" || !Array.isArray(this.details)) return out;
    for (const d of this.details as FieldError[]) {
      const name = String(d.field ?? "").split(".").pop() ?? "";
      if (name && !(name in out)) out[name] = d.message;
    }
    return out;
  }
}

interface ErrorBody {
  error?: { code?: string; message?: string; details?: unknown };
  meta?: { requestId?: string };
}

type Result<T> = { data?: { data: T }; error?: unknown; response: Response };

/** Await an openapi-fetch call and return the envelope's `data`, or throw an ApiError. */
export async function unwrap<T>(call: Promise<Result<T>>): Promise<T> {
  let result: Result<T>;
  try {
    result = await call;
  } catch (e) {
    throw new ApiError("NETWORK", "Cannot reach Pitchey. Check your connection and try again.", 0, e);
  }
  if (result.data !== undefined && result.response.ok) return result.data.data;
  const body = (result.error ?? {}) as ErrorBody;
  const status = result.response.status;
  // The envelope's id, else the header (a proxy's HTML error page has no envelope but may pass it on).
  const requestId =
    (typeof body.meta?.requestId === "string" ? body.meta.requestId : undefined) ??
    result.response.headers.get("X-Request-Id") ??
    undefined;
  throw new ApiError(
    body.error?.code ?? `HTTP_${status}`,
    body.error?.message ?? `The server answered ${status}.`,
    status,
    body.error?.details,
    requestId,
  );
}

/** The request id of a failed call, when the server gave one (to quote to support). */
export function errorRequestId(e: unknown): string | undefined {
  return e instanceof ApiError ? e.requestId : undefined;
}

/** Words for a person, whatever was thrown. */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return "Something went wrong.";
}
