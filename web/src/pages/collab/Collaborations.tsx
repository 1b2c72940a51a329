// /collaborations: the invitations to write on someone's pitch (accept / decline; the
// collaborator_invite notification leads here), the pitches I collaborate on, and for a creator
// their own pitches, each a way into its documents. A collaborator_* notification refetches.
import { Link } from "react-router";
import { errorMessage } from "../../api/client";
import { useSession } from "../../auth/session";
import { formatDate } from "../../lib/format";
import { useMyPitches } from "../creator/data";
import { Alert, Badge, Button, ButtonLink, Card, Empty, ErrorState, Loading, PageHeader, layout } from "../../ui";
import c from "./collab.module.css";
import { ROLE_LABEL, useAnswerInvitation, useCollaborations, useCollabNotifications, type Collaboration } from "./data";
import { useDocumentTitle } from "./title";

export default function Collaborations() {
  useDocumentTitle("Collaborations");
  useCollabNotifications();
  const session = useSession();
  const q = useCollaborations();
  const pending = q.data?.filter((x) => x.status === "pending") ?? [];
  const accepted = q.data?.filter((x) => x.status === "accepted") ?? [];
  return (
    <>
      <PageHeader title="Collaborations" />
      <p className={c.muted}>
        Write a pitch's synopsis, treatment and notes together, live: the owner invites editors (who write) and
        viewers (who read).
      </p>
      {q.isPending ? (
        <Loading label="Loading your collaborations…" />
      ) : q.isError ? (
        <ErrorState error={q.error} retry={() => void q.refetch()} />
      ) : (
        <div className={layout.stack}>
          <Card aria-labelledby="invitations-heading">
            <h2 id="invitations-heading">Invitations to you</h2>
            {pending.length === 0 ? (
              <Empty>No invitation is waiting for an answer.</Empty>
            ) : (
              <ul className={c.list} aria-label="Invitations to you">
                {pending.map((x) => (
                  <InvitationRow key={x.pitchId} item={x} />
                ))}
              </ul>
            )}
          </Card>
          <Card aria-labelledby="collaborating-heading">
            <h2 id="collaborating-heading">Pitches I collaborate on</h2>
            {accepted.length === 0 ? (
              <Empty>You do not collaborate on anyone's pitch yet. Accepted invitations appear here.</Empty>
            ) : (
              <ul className={c.list} aria-label="Pitches I collaborate on">
                {accepted.map((x) => (
                  <li key={x.pitchId} className={c.row}>
                    <div className={c.who}>
                      <strong>{x.pitchTitle}</strong>
                      <span className={`${c.muted} ${c.small}`}>
                        {ROLE_LABEL[x.role] ?? x.role}
                        {x.respondedAt ? ` since ${formatDate(x.respondedAt)}` : ""}
                      </span>
                    </div>
                    <ButtonLink to={`/pitches/${x.pitchId}/documents/synopsis`} small>
                      {x.role === "editor" ? "Write" : "Read"}
                      <span className="visually-hidden"> the documents of {x.pitchTitle}</span>
                    </ButtonLink>
                  </li>
                ))}
              </ul>
            )}
          </Card>
          {session.data?.userType === "creator" && <OwnPitches />}
        </div>
      )}
    </>
  );
}

function InvitationRow({ item: x }: { item: Collaboration }) {
  const answer = useAnswerInvitation();
  const busy = answer.isPending ? answer.variables.answer : null;
  return (
    <li className={c.row} data-testid="invitation">
      <div className={c.who}>
        <strong>{x.pitchTitle}</strong>
        <span className={`${c.muted} ${c.small}`}>
          as {(ROLE_LABEL[x.role] ?? x.role).toLowerCase()} · invited {formatDate(x.invitedAt)}
        </span>
      </div>
      <div className={c.actions}>
        <Button small busy={busy === "accept"} disabled={busy !== null} onClick={() => answer.mutate({ pitchId: x.pitchId, answer: "accept" })}>
          Accept<span className="visually-hidden"> the invitation to {x.pitchTitle}</span>
        </Button>
        <Button
          small
          variant="secondary"
          busy={busy === "decline"}
          disabled={busy !== null}
          onClick={() => answer.mutate({ pitchId: x.pitchId, answer: "decline" })}
        >
          Decline<span className="visually-hidden"> the invitation to {x.pitchTitle}</span>
        </Button>
      </div>
      {answer.isError && <Alert kind="error">{errorMessage(answer.error)}</Alert>}
    </li>
  );
}

/** A creator's own pitches, each with the way into its documents (where they invite people too). */
function OwnPitches() {
  const q = useMyPitches("all", 1);
  return (
    <Card aria-labelledby="own-heading">
      <h2 id="own-heading">Your pitches</h2>
      {q.isPending ? (
        <Loading label="Loading your pitches…" />
      ) : q.isError ? (
        <ErrorState error={q.error} retry={() => void q.refetch()} />
      ) : q.data.items.length === 0 ? (
        <Empty>
          You have no pitch yet. <Link to="/creator/pitches/new">Create one</Link>, then write it here with others.
        </Empty>
      ) : (
        <ul className={c.list} aria-label="Your pitches">
          {q.data.items.map((p) => (
            <li key={p.id} className={c.row}>
              <div className={c.who}>
                <strong>{p.title}</strong>
                <span className={`${c.muted} ${c.small}`}>
                  <Badge>{p.status === "published" ? "Published" : p.status === "draft" ? "Draft" : "Archived"}</Badge>
                </span>
              </div>
              <ButtonLink to={`/pitches/${p.id}/documents/synopsis`} small variant="secondary">
                Write together<span className="visually-hidden"> on {p.title}</span>
              </ButtonLink>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
