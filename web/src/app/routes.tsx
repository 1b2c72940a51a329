// Every route of the app. Pages are code-split per route: the public side loads no portal code.
// The landing page alone ships in the entry chunk: it is the first page most people see, and a
// lazy chunk would add a round trip before the first pitch card (bench/bench_web.py measures it).
import { createBrowserRouter, Navigate, type RouteObject } from "react-router";
import Landing from "../pages/public/Landing";
import { Shell } from "./Shell";
import { RequirePortal } from "./RequirePortal";
import { RouteError } from "./RouteError";

function page(load: () => Promise<{ default: React.ComponentType }>): Pick<RouteObject, "lazy"> {
  return { lazy: async () => ({ Component: (await load()).default }) };
}

export const routes: RouteObject[] = [
  {
    element: <Shell />,
    errorElement: <RouteError />,
    children: [
      { index: true, Component: Landing },
      { path: "browse", ...page(() => import("../pages/public/Browse")) },
      { path: "pitches/:id", ...page(() => import("../pages/public/PitchDetail")) },
      { path: "users/:id", ...page(() => import("../pages/account/UserProfile")) },
      { path: "login", ...page(() => import("../pages/auth/Login")) },
      { path: "register", ...page(() => import("../pages/auth/Register")) },
      { path: ":portal/login", ...page(() => import("../pages/auth/Login")) },
      { path: ":portal/register", ...page(() => import("../pages/auth/Register")) },
      {
        path: "creator",
        element: <RequirePortal portal="creator" />,
        children: [
          { index: true, ...page(() => import("../pages/creator/Dashboard")) },
          { path: "pitches", ...page(() => import("../pages/creator/MyPitches")) },
          { path: "pitches/new", ...page(() => import("../pages/creator/PitchEditor")) },
          { path: "pitches/:id/edit", ...page(() => import("../pages/creator/PitchEditor")) },
          { path: "ndas", ...page(() => import("../pages/creator/Ndas")) },
          { path: "nda-templates", ...page(() => import("../pages/creator/NdaTemplates")) },
          { path: "nda-templates/:id", ...page(() => import("../pages/creator/NdaTemplates")) },
          { path: "pitches/:id/analytics", ...page(() => import("../pages/creator/PitchAnalytics")) },
        ],
      },
      {
        path: "investor",
        element: <RequirePortal portal="investor" />,
        children: [
          { index: true, ...page(() => import("../pages/investor/Dashboard")) },
          { path: "portfolio", ...page(() => import("../pages/investor/Portfolio")) },
          { path: "history", ...page(() => import("../pages/investor/History")) },
          { path: "ndas", ...page(() => import("../pages/shared/OutgoingNdas")) },
          { path: "saved", ...page(() => import("../pages/investor/Saved")) },
        ],
      },
      {
        path: "production",
        element: <RequirePortal portal="production" />,
        children: [
          { index: true, ...page(() => import("../pages/production/Dashboard")) },
          { path: "projects/new", ...page(() => import("../pages/production/ProjectNew")) },
          { path: "projects/:id", ...page(() => import("../pages/production/ProjectDetail")) },
          { path: "following", ...page(() => import("../pages/production/Following")) },
          { path: "team", ...page(() => import("../pages/production/Team")) },
          { path: "resources", ...page(() => import("../pages/production/Resources")) },
          { path: "projects/:id/timeline", ...page(() => import("../pages/production/Timeline")) },
          { path: "ndas", ...page(() => import("../pages/shared/OutgoingNdas")) },
        ],
      },
      {
        // Every signed-in person, whatever the portal.
        element: <RequirePortal />,
        children: [
          { path: "messages", ...page(() => import("../pages/shared/Messages")) },
          { path: "messages/:userId", ...page(() => import("../pages/shared/Messages")) },
          { path: "notifications", ...page(() => import("../pages/shared/Notifications")) },
          // Signed NDA agreements: both parties (creators and requesters) list theirs here.
          { path: "agreements", ...page(() => import("../pages/shared/Agreements")) },
          { path: "settings/billing", ...page(() => import("../pages/shared/Billing")) },
          { path: "settings", ...page(() => import("../pages/account/Settings")) },
          { path: "people", element: <Navigate to="/people/following" replace /> },
          { path: "people/:tab", ...page(() => import("../pages/account/People")) },
          // Operators only; anyone else signed in sees the page's own "Operators only" answer.
          { path: "ops", ...page(() => import("../pages/ops/Ops")) },
          // Co-editing: any portal may be invited to write on a pitch, so not under /creator.
          { path: "collaborations", ...page(() => import("../pages/collab/Collaborations")) },
          { path: "pitches/:id/documents", element: <Navigate to="synopsis" replace /> },
          { path: "pitches/:id/documents/:doc", ...page(() => import("../pages/collab/WriteTogether")) },
        ],
      },
      { path: "*", ...page(() => import("../pages/NotFound")) },
    ],
  },
];

export const router = createBrowserRouter(routes);
