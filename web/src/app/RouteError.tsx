import { isRouteErrorResponse, useRouteError } from "react-router";
import { Alert, ButtonLink } from "../ui";

export function RouteError() {
  const error = useRouteError();
  const message = isRouteErrorResponse(error)
    ? `${error.status} ${error.statusText}`
    : error instanceof Error
      ? error.message
      : "Something went wrong.";
  return (
    <main style={{ padding: 24 }}>
      <Alert kind="error">
        This page failed to load: {message}. A newer version may be out; reloading usually helps.
      </Alert>
      <ButtonLink to="/">Go to the home page</ButtonLink>
    </main>
  );
}
