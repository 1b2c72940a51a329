// What a route shows when it fails to render: the error in words and, when a call to the API failed,
// its request id, so a person can quote it to support (the server logs every request with it).
import { useEffect } from "react";
import { isRouteErrorResponse, useRouteError } from "react-router";
import { ApiError, errorRequestId } from "../api/client";
import { reportError } from "../lib/sentry";
import { Alert, Button, ButtonLink, RequestRef } from "../ui";

/** A lazily loaded page whose file is gone (a newer build was deployed meanwhile) or unreachable. */
function isChunkError(error: unknown): boolean {
  return (
    error instanceof Error &&
    /dynamically imported module|Importing a module script failed|error loading dynamically/i.test(error.message)
  );
}

/** Whether a route's failure is a bug worth reporting: not a 404 of the router, not an API refusal
 * (a 4xx is an answer). A 5xx is, with its request id, which ties it to the server's own event. */
function isReportable(error: unknown): boolean {
  if (isRouteErrorResponse(error)) return error.status >= 500;
  if (error instanceof ApiError) return error.status >= 500;
  return true;
}

export function RouteError() {
  const error = useRouteError();
  const chunk = isChunkError(error);
  useEffect(() => {
    if (isReportable(error)) reportError(error, { kind: "render", request_id: errorRequestId(error) });
  }, [error]);
  const message = isRouteErrorResponse(error)
    ? `${error.status} ${error.statusText}`
    : error instanceof Error
      ? error.message
      : "Something went wrong.";
  return (
    <main style={{ padding: 24, maxWidth: 720 }}>
      <h1>Something went wrong</h1>
      <Alert kind="error">
        <span>
          {chunk
            ? "This page could not be loaded: a newer version of Pitchey may be out. Reloading usually helps."
            : error instanceof ApiError
              ? `This page failed: ${message}`
              : `This page failed to show: ${message}. Reloading usually helps.`}
        </span>
        <RequestRef error={error} />
      </Alert>
      <div style={{ display: "flex", gap: 12, flexWrap: "wrap" }}>
        <Button onClick={() => window.location.reload()}>Reload the page</Button>
        <ButtonLink to="/" variant="secondary">
          Go to the home page
        </ButtonLink>
      </div>
    </main>
  );
}
