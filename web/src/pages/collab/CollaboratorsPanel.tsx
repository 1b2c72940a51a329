// The collaborators of a pitch, beside its documents. The owner invites by email with a role,
// changes a role (an invitation again, which the API treats as a role change) and removes people;
// a collaborator sees who else works on it and may leave. NDA holders see no list (the API keeps it
// from them).
import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { ApiError, errorMessage } from "../../api/client";
import { formatDate } from "../../lib/format";
import { Alert, Badge, Button, Card, Empty, ErrorState, Loading, Select, TextField } from "../../ui";
import c from "./collab.module.css";
import {
  displayName,
  ROLE_LABEL,
  ROLE_OPTIONS,
  useCollaborators,
  useInvite,
  useRemoveCollaborator,
  type CollabRole,
  type Collaborator,
  type DocRole,
} from "./data";

// In a row the form's explanations are known already; short names fit the side column.
const SHORT_ROLES: { value: CollabRole; label: string }[] = [
  { value: "editor", label: "Editor" },
  { value: "viewer", label: "Viewer" },
];

const STATUS: Record<string, { text: string; tone?: "success" | "warn" | "danger" }> = {
  pending: { text: "Invited", tone: "warn" },
  accepted: { text: "Accepted", tone: "success" },
  declined: { text: "Declined", tone: "danger" },
};

export function CollaboratorsPanel({ pitchId, role, userId }: { pitchId: number; role: DocRole; userId: number }) {
  const isOwner = role === "owner";
  const list = useCollaborators(pitchId, role !== "nda");
  if (role === "nda") return null;
  return (
    <Card aria-labelledby="collaborators-heading">
      <h2 id="collaborators-heading">Collaborators</h2>
      {isOwner && <InviteForm pitchId={pitchId} />}
      {list.isPending ? (
        <Loading label="Loading the collaborators…" />
      ) : list.isError ? (
        <ErrorState error={list.error} retry={() => void list.refetch()} />
      ) : list.data.length === 0 ? (
        <Empty>{isOwner ? "No one yet: invite an editor or a viewer above." : "No other collaborators."}</Empty>
      ) : (
        <ul className={c.list} aria-label="Collaborators of this pitch">
          {list.data.map((m) => (
            <CollaboratorRow key={m.userId} pitchId={pitchId} member={m} isOwner={isOwner} isMe={m.userId === userId} />
          ))}
        </ul>
      )}
    </Card>
  );
}

function InviteForm({ pitchId }: { pitchId: number }) {
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<CollabRole>("editor");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [done, setDone] = useState<string | null>(null);
  const invite = useInvite(pitchId);

  function submit(e: FormEvent) {
    e.preventDefault();
    setDone(null);
    const value = email.trim();
    if (!value) {
      setErrors({ email: "Enter the email of the person to invite." });
      document.getElementById("collab-invite-email")?.focus();
      return;
    }
    setErrors({});
    invite.mutate(
      { email: value, userId: null, role },
      {
        onSuccess: (m) => {
          setDone(`Invited ${displayName(m)} as ${ROLE_LABEL[m.role]?.toLowerCase() ?? m.role}. They answer from their notifications.`);
          setEmail("");
        },
        onError: (err) => setErrors(err instanceof ApiError ? err.fieldErrors() : {}),
      },
    );
  }

  const other = invite.error && !Object.keys(errors).length ? errorMessage(invite.error) : null;
  return (
    <form onSubmit={submit} noValidate aria-label="Invite a collaborator" className={c.inviteForm}>
      <div className={c.formGrid}>
        <TextField
          id="collab-invite-email"
          label="Email of the person to invite"
          type="email"
          autoComplete="off"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={errors.email}
          required
        />
        <Select
          id="collab-invite-role"
          label="Role"
          value={role}
          onChange={(e) => setRole(e.target.value as CollabRole)}
          options={ROLE_OPTIONS}
          error={errors.role}
        />
      </div>
      {other && <Alert kind="error">{other}</Alert>}
      {done && <Alert kind="success">{done}</Alert>}
      <Button type="submit" busy={invite.isPending}>
        Send invitation
      </Button>
    </form>
  );
}

function CollaboratorRow({
  pitchId,
  member: m,
  isOwner,
  isMe,
}: {
  pitchId: number;
  member: Collaborator;
  isOwner: boolean;
  isMe: boolean;
}) {
  const [confirming, setConfirming] = useState(false);
  const remove = useRemoveCollaborator(pitchId);
  const invite = useInvite(pitchId);
  const navigate = useNavigate();
  const name = displayName(m);
  const status = STATUS[m.status] ?? { text: m.status };
  const failure = remove.error ?? invite.error;
  const canRemove = isOwner || isMe;
  return (
    <li className={c.row} data-testid="collaborator">
      <div className={c.who}>
        <strong>
          {name}
          {isMe && " (you)"}
        </strong>
        <span className={`${c.muted} ${c.small}`}>
          {ROLE_LABEL[m.role] ?? m.role} · <Badge tone={status.tone}>{status.text}</Badge>{" "}
          {m.status === "pending" ? `invited ${formatDate(m.invitedAt)}` : m.respondedAt ? formatDate(m.respondedAt) : ""}
        </span>
      </div>
      <div className={c.actions}>
        {isOwner && (
          <Select
            label={`Role of ${name}`}
            value={m.role}
            onChange={(e) => invite.mutate({ userId: m.userId, email: null, role: e.target.value as CollabRole })}
            options={SHORT_ROLES}
            disabled={invite.isPending}
          />
        )}
        {canRemove &&
          (confirming ? (
            <span className={c.actions}>
              <Button
                small
                variant="danger"
                busy={remove.isPending}
                onClick={() =>
                  remove.mutate(m.userId, { onSuccess: () => (isMe ? void navigate("/collaborations") : undefined) })
                }
              >
                {isMe ? "Leave this pitch now" : `Remove ${name} now`}
              </Button>
              <Button small variant="ghost" onClick={() => setConfirming(false)}>
                Keep
              </Button>
            </span>
          ) : (
            <Button small variant="secondary" onClick={() => setConfirming(true)}>
              {isMe ? "Leave" : "Remove"}
              {!isMe && <span className="visually-hidden"> {name}</span>}
            </Button>
          ))}
      </div>
      {failure && <Alert kind="error">{errorMessage(failure)}</Alert>}
    </li>
  );
}
