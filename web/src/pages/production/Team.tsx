// /production/team: the company's team (invite by email with a role, change roles, remove, pending
// invitations), the invitations addressed to me (accept / decline — the notification leads here)
// and the projects of the teams I am on. A team invitation or removal arriving live refetches.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { api, ApiError, errorMessage, unwrap, type Schemas } from "../../api/client";
import { keys } from "../../api/keys";
import { formatDate } from "../../lib/format";
import { useUserEvents } from "../../realtime";
import { Alert, Badge, Button, Card, Empty, ErrorState, Loading, PageHeader, Select, TextField, layout } from "../../ui";
import s from "./production.module.css";
import { StageBadge, useDocumentTitle } from "./shared";
import t from "./team.module.css";

type Member = Schemas["MemberOut"];
type Membership = Schemas["MembershipOut"];
type Role = Schemas["InviteBody"]["role"];

export const ROLE_OPTIONS: { value: Role; label: string }[] = [
  { value: "producer", label: "Producer — edits projects" },
  { value: "coordinator", label: "Coordinator — edits projects" },
  { value: "finance", label: "Finance — records expenses" },
  { value: "viewer", label: "Viewer — reads only" },
];
const ROLE_NAME: Record<string, string> = {
  owner: "Owner",
  producer: "Producer",
  coordinator: "Coordinator",
  finance: "Finance",
  viewer: "Viewer",
};

function memberName(m: Member): string {
  return m.name || m.companyName || m.username || m.email;
}

export default function Team() {
  useDocumentTitle("Team");
  const qc = useQueryClient();
  const q = useQuery({
    queryKey: keys.team(null),
    queryFn: () => unwrap(api.GET("/api/production/team", { params: { query: {} } })),
  });
  // Invitations and removals arrive as notifications: the lists here change with them.
  useUserEvents((f) => {
    const kind = (f.data as { kind?: unknown } | null)?.kind;
    if (f.type === "notification" && typeof kind === "string" && kind.startsWith("team_")) {
      void qc.invalidateQueries({ queryKey: keys.teamAll });
    }
  });

  const invited = q.data?.memberships.some((m) => m.status === "pending") ?? false;
  return (
    <>
      <PageHeader title="Team" />
      {q.isPending ? (
        <Loading label="Loading the team…" />
      ) : q.isError ? (
        <ErrorState error={q.error} retry={() => void q.refetch()} />
      ) : (
        <div className={layout.stack}>
          {/* An invitation waiting for an answer is what the invitee came for: first, on a phone too. */}
          {invited && <Invitations memberships={q.data.memberships} />}
          <div className={s.columns}>
            <div className={layout.stack}>
              <Invite />
              <Members members={q.data.members} />
            </div>
            <div className={layout.stack}>
              {!invited && <Invitations memberships={q.data.memberships} />}
              <TeamProjects />
            </div>
          </div>
        </div>
      )}
    </>
  );
}

function Invite() {
  const qc = useQueryClient();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [done, setDone] = useState<string | null>(null);
  const invite = useMutation({
    mutationFn: (body: Schemas["InviteBody"]) => unwrap(api.POST("/api/production/team", { body })),
    onSuccess: (m) => {
      setDone(`Invited ${m.email} as ${ROLE_NAME[m.role] ?? m.role}. They accept from their notifications.`);
      setEmail("");
      setErrors({});
      void qc.invalidateQueries({ queryKey: keys.teamAll });
    },
    onError: (err) => setErrors(err instanceof ApiError ? err.fieldErrors() : {}),
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    setDone(null);
    if (!email.trim()) {
      setErrors({ email: "Enter the email of a production account." });
      document.getElementById("invite-email")?.focus();
      return;
    }
    invite.mutate({ email: email.trim(), role });
  }

  const other = invite.error && !Object.keys(errors).length ? errorMessage(invite.error) : null;
  return (
    <Card aria-labelledby="invite-heading">
      <h2 id="invite-heading">Invite a team member</h2>
      <p className={`${s.muted} ${s.small}`}>
        Team members are production accounts. Producers and coordinators edit your projects, timelines and
        resources; finance records expenses; viewers only read.
      </p>
      <form onSubmit={submit} noValidate>
        <div className={s.formGrid}>
          <TextField
            id="invite-email"
            label="Email"
            type="email"
            autoComplete="off"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            error={errors.email}
            required
          />
          <Select
            id="invite-role"
            label="Role"
            value={role}
            onChange={(e) => setRole(e.target.value as Role)}
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
    </Card>
  );
}

function Members({ members }: { members: Member[] }) {
  const active = members.filter((m) => m.status === "active");
  const pending = members.filter((m) => m.status !== "active");
  return (
    <>
      <Card aria-labelledby="members-heading">
        <h2 id="members-heading">Members</h2>
        {active.length === 0 ? (
          <Empty>No one has joined your team yet.</Empty>
        ) : (
          <ul className={s.plainList} aria-label="Team members">
            {active.map((m) => (
              <MemberRow key={m.id} member={m} />
            ))}
          </ul>
        )}
      </Card>
      <Card aria-labelledby="pending-heading">
        <h2 id="pending-heading">Pending invitations</h2>
        {pending.length === 0 ? (
          <Empty>No invitation is waiting for an answer.</Empty>
        ) : (
          <ul className={s.plainList} aria-label="Pending invitations">
            {pending.map((m) => (
              <MemberRow key={m.id} member={m} />
            ))}
          </ul>
        )}
      </Card>
    </>
  );
}

function MemberRow({ member: m }: { member: Member }) {
  const qc = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const name = memberName(m);
  const setRole = useMutation({
    mutationFn: (role: Role) =>
      unwrap(api.PUT("/api/production/team/{id}", { params: { path: { id: m.id } }, body: { role } })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.teamAll }),
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/production/team/{id}", { params: { path: { id: m.id } } })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.teamAll }),
  });
  const pending = m.status !== "active";
  const failure = setRole.error ?? remove.error;
  return (
    <li className={t.memberRow}>
      <div className={t.memberWho}>
        <strong>{name}</strong>
        {name !== m.email && <span className={`${s.muted} ${s.small}`}>{m.email}</span>}
        <span className={`${s.muted} ${s.small}`}>
          {pending ? `Invited ${formatDate(m.createdAt)}` : `Joined ${formatDate(m.respondedAt ?? m.createdAt)}`}
        </span>
      </div>
      <div className={t.memberActions}>
        <Select
          label={`Role of ${name}`}
          value={m.role}
          onChange={(e) => setRole.mutate(e.target.value as Role)}
          options={ROLE_OPTIONS}
          disabled={setRole.isPending}
        />
        {confirming ? (
          <span className={s.badges}>
            <Button small variant="danger" busy={remove.isPending} onClick={() => remove.mutate()}>
              {pending ? `Withdraw the invitation to ${name}` : `Remove ${name} now`}
            </Button>
            <Button small variant="ghost" onClick={() => setConfirming(false)}>
              Keep
            </Button>
          </span>
        ) : (
          <Button small variant="secondary" onClick={() => setConfirming(true)}>
            {pending ? "Withdraw" : "Remove"}
            <span className="visually-hidden"> {name}</span>
          </Button>
        )}
      </div>
      {failure && <Alert kind="error">{errorMessage(failure)}</Alert>}
    </li>
  );
}

function Invitations({ memberships }: { memberships: Membership[] }) {
  const pending = memberships.filter((m) => m.status === "pending");
  const active = memberships.filter((m) => m.status === "active");
  return (
    <Card aria-labelledby="invitations-heading">
      <h2 id="invitations-heading">Teams you are on or invited to</h2>
      {pending.length === 0 && active.length === 0 && (
        <Empty>No company has invited you to its team.</Empty>
      )}
      {pending.length > 0 && (
        <ul className={s.plainList} aria-label="Invitations to you">
          {pending.map((m) => (
            <InvitationRow key={m.id} membership={m} />
          ))}
        </ul>
      )}
      {active.length > 0 && (
        <ul className={s.plainList} aria-label="Your teams">
          {active.map((m) => (
            <li key={m.id}>
              <strong>{m.companyName || m.companyUsername || `Company ${m.companyId}`}</strong>{" "}
              <Badge tone="primary">{ROLE_NAME[m.role] ?? m.role}</Badge>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

function InvitationRow({ membership: m }: { membership: Membership }) {
  const qc = useQueryClient();
  const company = m.companyName || m.companyUsername || `Company ${m.companyId}`;
  const answer = useMutation({
    mutationFn: (accept: boolean) =>
      unwrap(
        accept
          ? api.POST("/api/production/team/invitations/{id}/accept", { params: { path: { id: m.id } }, body: {} })
          : api.POST("/api/production/team/invitations/{id}/decline", { params: { path: { id: m.id } }, body: {} }),
      ),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: keys.teamAll });
      void qc.invalidateQueries({ queryKey: keys.notifications });
    },
  });
  return (
    <li>
      <p style={{ margin: "0 0 8px" }}>
        <strong>{company}</strong> invited you as <strong>{ROLE_NAME[m.role] ?? m.role}</strong>.
      </p>
      <span className={s.badges}>
        <Button small busy={answer.isPending && answer.variables} onClick={() => answer.mutate(true)}>
          Accept<span className="visually-hidden"> the invitation from {company}</span>
        </Button>
        <Button small variant="secondary" busy={answer.isPending && !answer.variables} onClick={() => answer.mutate(false)}>
          Decline<span className="visually-hidden"> the invitation from {company}</span>
        </Button>
      </span>
      {answer.isError && <Alert kind="error">{errorMessage(answer.error)}</Alert>}
    </li>
  );
}

function TeamProjects() {
  const q = useQuery({
    queryKey: keys.teamProjects,
    queryFn: () => unwrap(api.GET("/api/production/team/projects")),
  });
  return (
    <Card aria-labelledby="team-projects-heading">
      <h2 id="team-projects-heading">Projects of your teams</h2>
      {q.isPending ? (
        <Loading label="Loading projects…" />
      ) : q.isError ? (
        <ErrorState error={q.error} retry={() => void q.refetch()} />
      ) : q.data.length === 0 ? (
        <Empty>Projects of the companies whose team you join show here.</Empty>
      ) : (
        <ul className={s.plainList}>
          {q.data.map((p) => (
            <li key={p.id} className={s.milestone}>
              <Link to={`/production/projects/${p.id}`}>{p.title}</Link>
              <StageBadge stage={p.stage as Schemas["ProjectOut"]["stage"]} />
              <span className={`${s.muted} ${s.small}`}>
                {p.companyName ?? "Company"} · {ROLE_NAME[p.role] ?? p.role}
              </span>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
