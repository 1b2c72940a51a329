// Errors to Sentry (docs/deployment.md, "Errors to Sentry").
//
// Nothing about Sentry is built into the bundle: the server says whether and where to report
// (GET /api/config: DSN, environment and release, the server's own), and the SDK is a chunk of its
// own (sentrySdk.ts). Both are fetched on the first error only, so a page that does not fail pays
// for neither, public pages included: until then this module only listens for uncaught errors.
// Once loaded, the SDK's own global handlers take over from those listeners. What is sent is
// scrubbed (scrub.ts, in the SDK's chunk): no token (JS never has one: the session is an HttpOnly
// cookie) and no email.
import type { QueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { keys } from "../api/keys";

type Sdk = typeof import("./sentrySdk");

let queryClient: QueryClient | null = null;
let loading: Promise<Sdk | null> | null = null;

/** Install the listeners that load reporting on the first uncaught error (called once, at start). */
export function startErrorReporting(client: QueryClient): void {
  queryClient = client;
  window.addEventListener("error", onError);
  window.addEventListener("unhandledrejection", onRejection);
}

/** Report an error the app caught itself (a route's error boundary), with tags such as its request id. */
export function reportError(error: unknown, tags: Record<string, string | undefined> = {}): void {
  void load().then((sdk) => {
    if (!sdk) return;
    sdk.withScope((scope) => {
      for (const [name, value] of Object.entries(tags)) {
        if (value) scope.setTag(name, value);
      }
      sdk.captureException(error);
    });
  });
}

function onError(event: ErrorEvent): void {
  reportError(event.error ?? event.message, { kind: "uncaught" });
}

function onRejection(event: PromiseRejectionEvent): void {
  reportError(event.reason, { kind: "unhandledrejection" });
}

function load(): Promise<Sdk | null> {
  loading ??= configure().catch(() => null); // best effort: reporting never breaks a page
  return loading;
}

async function configure(): Promise<Sdk | null> {
  if (!queryClient) return null;
  const config = await queryClient.fetchQuery({
    queryKey: keys.config,
    queryFn: () => unwrap(api.GET("/api/config")),
    staleTime: Infinity,
  });
  if (!config.sentry) return null;
  const sdk = await import("./sentrySdk");
  sdk.start(config.sentry);
  // From now on the SDK's global handlers see uncaught errors; ours would report them twice.
  window.removeEventListener("error", onError);
  window.removeEventListener("unhandledrejection", onRejection);
  return sdk;
}
