import { useState } from "react";
import { NavLink, Outlet, useNavigate } from "react-router";
import { PORTAL_LABEL, useLogout, useSession, type User } from "../auth/session";
import { LiveProvider, useConnectionState } from "../realtime";
import { Button, ButtonLink } from "../ui";
import { NotificationBell } from "./NotificationBell";
import s from "./Shell.module.css";

const PORTAL_NAV: Record<User["userType"], { to: string; label: string; end?: boolean }[]> = {
  creator: [
    { to: "/creator", label: "Dashboard", end: true },
    { to: "/creator/pitches", label: "My pitches" },
    { to: "/creator/ndas", label: "NDAs" },
    { to: "/creator/nda-templates", label: "NDA templates" },
    { to: "/agreements", label: "Agreements" },
    { to: "/messages", label: "Messages" },
  ],
  investor: [
    { to: "/investor", label: "Dashboard", end: true },
    { to: "/investor/portfolio", label: "Portfolio" },
    { to: "/investor/saved", label: "Saved" },
    { to: "/investor/ndas", label: "NDAs" },
    { to: "/agreements", label: "Agreements" },
    { to: "/messages", label: "Messages" },
  ],
  production: [
    { to: "/production", label: "Projects", end: true },
    { to: "/production/team", label: "Team" },
    { to: "/production/resources", label: "Resources" },
    { to: "/production/ndas", label: "NDAs" },
    { to: "/agreements", label: "Agreements" },
    { to: "/messages", label: "Messages" },
  ],
};

function ConnectionStatus() {
  const state = useConnectionState();
  if (state !== "reconnecting") return null;
  return (
    <span className={s.status} role="status">
      Reconnecting…
    </span>
  );
}

function UserMenu({ user }: { user: User }) {
  const logout = useLogout();
  const navigate = useNavigate();
  return (
    <div className={s.user}>
      <ConnectionStatus />
      <NotificationBell />
      <span className={s.who}>
        {user.name ?? user.username ?? user.email} · {PORTAL_LABEL[user.userType]}
      </span>
      <Button
        variant="secondary"
        small
        busy={logout.isPending}
        onClick={() => {
          // Leave the portal first: signed out on a portal page would bounce to its login.
          void navigate("/");
          logout.mutate();
        }}
      >
        Sign out
      </Button>
    </div>
  );
}

export function Shell() {
  const session = useSession();
  const user = session.data ?? null;
  // On phones the navigation folds behind a Menu button; any click inside it folds it again.
  const [menuOpen, setMenuOpen] = useState(false);
  return (
    <LiveProvider>
      <a className={s.skip} href="#main">
        Skip to content
      </a>
      <header className={s.header}>
        <div className={s.bar} data-signed-in={user !== null}>
          <NavLink to="/" className={s.logo} aria-label="Pitchey home">
            <img src="/favicon.svg" alt="" />
            Pitchey
          </NavLink>
          <button
            type="button"
            className={s.menuButton}
            aria-expanded={menuOpen}
            aria-controls="main-nav"
            onClick={() => setMenuOpen((o) => !o)}
          >
            Menu
          </button>
          <nav
            id="main-nav"
            className={s.nav}
            aria-label="Main"
            data-open={menuOpen}
            onClick={() => setMenuOpen(false)}
          >
            <NavLink to="/browse">Browse</NavLink>
            {user &&
              PORTAL_NAV[user.userType].map((l) => (
                <NavLink key={l.to} to={l.to} end={l.end ?? false}>
                  {l.label}
                </NavLink>
              ))}
            {user && <NavLink to="/people">People</NavLink>}
            {user && <NavLink to="/collaborations">Collaborations</NavLink>}
            {user && <NavLink to="/settings/billing">Billing</NavLink>}
            {user && (
              <NavLink to="/settings" end>
                Settings
              </NavLink>
            )}
          </nav>
          {user ? (
            <UserMenu user={user} />
          ) : (
            <div className={s.user}>
              <ButtonLink to="/login" variant="secondary" small>
                Sign in
              </ButtonLink>
              <ButtonLink to="/register" small>
                Join Pitchey
              </ButtonLink>
            </div>
          )}
        </div>
      </header>
      <main id="main" className={s.main} tabIndex={-1}>
        <Outlet />
      </main>
    </LiveProvider>
  );
}
