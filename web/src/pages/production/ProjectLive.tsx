// The project's room (`project:<id>`): the team's presence on the project, and its changes live.
// A `project_update` refetches what changed (everything under keys.project(id): the project, its
// expenses and timeline), plus the resources (bookings) and analytics; a resync refetches the same.
import { useQueryClient } from "@tanstack/react-query";
import { keys } from "../../api/keys";
import { useSession } from "../../auth/session";
import { usePresence, useRoom, type ServerFrame } from "../../realtime";
import s from "./production.module.css";

export function useProjectLive(projectId: number | null): number {
  const qc = useQueryClient();
  const room = projectId ? `project:${projectId}` : null;
  const refresh = () => {
    if (!projectId) return;
    void qc.invalidateQueries({ queryKey: keys.project(projectId) });
    void qc.invalidateQueries({ queryKey: keys.resources });
    void qc.invalidateQueries({ queryKey: keys.analytics });
  };
  useRoom(
    room,
    (f: ServerFrame) => {
      if (f.type === "project_update") refresh();
    },
    refresh,
  );
  const session = useSession();
  const me = session.data?.id;
  return usePresence(room).filter((p) => p.userId !== me).length;
}

/** "2 other team members are on this project now", read out politely when it changes. */
export function TeamHere({ projectId }: { projectId: number }) {
  const others = useProjectLive(projectId);
  return (
    <p className={`${s.muted} ${s.small}`} role="status" aria-live="polite" data-testid="team-here">
      {others === 0
        ? "No one else from the team is on this project now."
        : `${others} other team member${others > 1 ? "s are" : " is"} on this project now.`}
    </p>
  );
}
