import { Navigate, Outlet, useLocation } from "react-router";
import { PORTAL_LABEL, useSession, type Portal } from "../auth/session";
import { Alert, ButtonLink, ErrorState, Loading } from "../ui";

/**
 * A portal's pages (or, without `portal`, any signed-in person's): signed-out people go to the
 * login and come back afterwards.
 */
export function RequirePortal({ portal }: { portal?: Portal }) {
  const session = useSession();
  const location = useLocation();
  if (session.isPending) return <Loading />;
  if (session.isError) return <ErrorState error={session.error} retry={() => void session.refetch()} />;
  const user = session.data;
  if (!user) {
    const next = encodeURIComponent(location.pathname + location.search);
    return <Navigate to={`${portal ? `/${portal}` : ""}/login?next=${next}`} replace />;
  }
  if (portal && user.userType !== portal) {
    return (
      <Alert kind="warn">
        This page is for {PORTAL_LABEL[portal].toLowerCase()} accounts. You are signed in as a{" "}
        {PORTAL_LABEL[user.userType].toLowerCase()}.{" "}
        <ButtonLink to={`/${user.userType}`} small variant="secondary">
          Go to your dashboard
        </ButtonLink>
      </Alert>
    );
  }
  return <Outlet />;
}
