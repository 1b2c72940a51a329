// The part of Sentry's React SDK the app uses, with its configuration: imported only by
// sentry.ts, dynamically, so it is a chunk of its own that no page loads before an error needs it.
import { init } from "@sentry/react";
import type { Schemas } from "../api/client";
import { scrub } from "./scrub";

export { captureException, withScope } from "@sentry/react";

export function start(config: Schemas["SentryConfig"]): void {
  init({
    dsn: config.dsn,
    environment: config.environment,
    release: config.release,
    // Collected at the source as little as errors need: no user details, cookies or bodies.
    dataCollection: { userInfo: false, cookies: false, httpBodies: [] },
    // No tracing, replay or feedback integrations: errors only, and the chunk stays small.
    beforeSend: (event) => scrub(event),
    beforeSendTransaction: (event) => scrub(event),
    beforeBreadcrumb: (crumb) => scrub(crumb),
  });
}
