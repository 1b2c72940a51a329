// The end of a project, on its page: archive (or restore) it, and delete it after a confirmation.
// While the project has bookings or expenses and is not archived the server refuses with 409 and
// says which; that sentence is shown as it is, with the archive button beside it.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { api, ApiError, errorMessage, unwrap } from "../../api/client";
import { keys } from "../../api/keys";
import { Alert, Button, Card } from "../../ui";
import s from "./production.module.css";
import { TeamHere } from "./ProjectLive";
import t from "./team.module.css";

export function ProjectLifecycle({ projectId, title }: { projectId: number; title: string }) {
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [confirming, setConfirming] = useState(false);
  // Whether it is archived now: the timeline's answer says so (the project's own answer does not).
  const tl = useQuery({
    queryKey: keys.timeline(projectId),
    queryFn: () => unwrap(api.GET("/api/production/projects/{id}/timeline", { params: { path: { id: projectId } } })),
  });
  const [changed, setArchived] = useState<boolean | null>(null);
  const archived = changed ?? (tl.data ? tl.data.archivedAt !== null : null);
  const archive = useMutation({
    mutationFn: (to: boolean) =>
      unwrap(api.POST("/api/production/projects/{id}/archive", { params: { path: { id: projectId } }, body: { archived: to } })),
    onSuccess: (r) => {
      setArchived(r.archived);
      void qc.invalidateQueries({ queryKey: keys.timeline(projectId) });
      void qc.invalidateQueries({ queryKey: keys.projects });
      void qc.invalidateQueries({ queryKey: keys.analytics });
    },
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/production/projects/{id}", { params: { path: { id: projectId } } })),
    onSuccess: () => {
      qc.removeQueries({ queryKey: keys.project(projectId) });
      void qc.invalidateQueries({ queryKey: keys.projects });
      void qc.invalidateQueries({ queryKey: keys.resources });
      void qc.invalidateQueries({ queryKey: keys.analytics });
      void navigate("/production", { replace: true });
    },
  });
  const refused = remove.error instanceof ApiError && remove.error.status === 409;

  return (
    <Card aria-labelledby="lifecycle-heading">
      <h2 id="lifecycle-heading">Timeline and end of the project</h2>
      <TeamHere projectId={projectId} />
      <p>
        <Link to={`/production/projects/${projectId}/timeline`}>Open the timeline</Link> to plan its phases.
      </p>
      <p className={`${s.muted} ${s.small}`}>
        A project with resource bookings or expenses is archived before it can be deleted. Deleting removes its budget,
        expenses, milestones, bookings and timeline for good.
      </p>
      {changed !== null && (
        <Alert kind="success">{changed ? `${title} is archived. It takes no new bookings.` : `${title} is restored.`}</Alert>
      )}
      {archive.isError && <Alert kind="error">{errorMessage(archive.error)}</Alert>}
      {tl.data && tl.data.role !== "owner" ? (
        <p className={`${s.muted} ${s.small}`}>Only the company that owns the project archives or deletes it.</p>
      ) : (
        <div className={t.dangerRow}>
          <Button small variant="secondary" busy={archive.isPending} onClick={() => archive.mutate(archived !== true)}>
            {archived === true ? "Restore project" : "Archive project"}
          </Button>
          {confirming ? (
            <span className={s.badges} role="group" aria-label="Confirm deletion">
              <Button small variant="danger" busy={remove.isPending} onClick={() => remove.mutate()}>
                Delete “{title}” for good
              </Button>
              <Button small variant="ghost" onClick={() => setConfirming(false)}>
                Keep it
              </Button>
            </span>
          ) : (
            <Button small variant="danger" onClick={() => setConfirming(true)}>
              Delete project
            </Button>
          )}
        </div>
      )}
      {remove.isError && (
        <Alert kind="error">
          {refused ? <strong>Not deleted. </strong> : null}
          {errorMessage(remove.error)}
        </Alert>
      )}
    </Card>
  );
}
