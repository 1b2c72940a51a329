// /pitches/:id/documents/:doc — "Write together": a pitch's synopsis, treatment and notes, edited
// live by the owner and the editors they invited (viewers and approved-NDA holders read). The
// role comes first from GET /api/pitches/{id}/documents, so the editor is read-only from the start
// for readers and a stranger sees the refusal in words without a socket being opened at all.
import { useCallback, useState } from "react";
import { Link, NavLink, useParams } from "react-router";
import { ApiError } from "../../api/client";
import { useSession, type User } from "../../auth/session";
import { usePitch } from "../creator/data";
import { Alert, Badge, ButtonLink, Card, Empty, ErrorState, Loading, PageHeader } from "../../ui";
import CollabEditor from "./CollabEditor";
import { CollaboratorsPanel } from "./CollaboratorsPanel";
import c from "./collab.module.css";
import { ROLE_LABEL, useCollaborations, useCollabNotifications, useDocuments, type DocRole } from "./data";
import { asDocName, closeInfo, DOC_LABEL, DOC_NAMES, userColour, type DocName, type Present } from "./docs";
import { useDocumentTitle } from "./title";
import { Versions } from "./Versions";

function personName(u: User): string {
  return u.name || u.username || `User ${u.id}`;
}

/** The pitch's title from what the role may read without side effects (a collaborator's GET of a
 * pitch would count a view; their collaborations list carries the title). */
function usePitchTitle(pitchId: number, role: DocRole | undefined): string | null {
  const viaPitch = role === "owner" || role === "nda";
  const pitch = usePitch(viaPitch ? pitchId : null);
  const mine = useCollaborations();
  if (viaPitch) return pitch.data?.title ?? null;
  return mine.data?.find((x) => x.pitchId === pitchId)?.pitchTitle ?? null;
}

export default function WriteTogether() {
  const params = useParams();
  const pitchId = Number(params.id);
  const docName = asDocName(params.doc);
  const session = useSession();
  const docs = useDocuments(pitchId);
  useCollabNotifications();
  const title = usePitchTitle(pitchId, docs.data?.role);
  const heading = title ? `Write together: ${title}` : "Write together";
  useDocumentTitle(docName ? `${DOC_LABEL[docName]} · ${heading}` : heading);

  if (!Number.isInteger(pitchId) || pitchId <= 0 || docName === null) {
    return (
      <>
        <PageHeader title="Write together" />
        <Empty>
          There is no such document. A pitch has a <Link to={`/pitches/${params.id}/documents/synopsis`}>synopsis</Link>,
          a treatment and notes.
        </Empty>
      </>
    );
  }
  if (docs.isPending || session.isPending) return <Loading label="Opening the documents…" />;
  if (docs.isError && docs.data === undefined) {
    const e = docs.error;
    const code = e instanceof ApiError ? (e.status === 403 ? 4003 : e.status === 404 ? 4004 : null) : null;
    return (
      <>
        <PageHeader title="Write together" />
        {code !== null ? (
          <Alert kind="error">
            <span data-testid="doc-refused">{closeInfo(code)?.message}</span>
          </Alert>
        ) : (
          <ErrorState error={e} retry={() => void docs.refetch()} />
        )}
        <p className={c.actions}>
          <Link to={`/pitches/${pitchId}`}>The pitch's page</Link>
          <Link to="/collaborations">Your collaborations and invitations</Link>
        </p>
      </>
    );
  }
  const user = session.data;
  if (!user) return <Loading label="Checking who you are…" />;
  if (docs.data === undefined) return <Loading label="Opening the documents…" />;
  // Asked again after a collaborator_* notification: a 403 now means access was withdrawn while
  // the page was open. The text stays on screen, read-only, with the reason.
  const withdrawn = docs.isError && docs.error instanceof ApiError && (docs.error.status === 403 || docs.error.status === 404);
  return (
    <Workspace
      pitchId={pitchId}
      docName={docName}
      heading={heading}
      title={title}
      user={user}
      role={docs.data.role}
      canWrite={docs.data.canWrite}
      locked={withdrawn ? (closeInfo(4003, "Access removed")?.message ?? null) : null}
    />
  );
}

function Workspace({
  pitchId,
  docName,
  heading,
  title,
  user,
  role,
  canWrite,
  locked,
}: {
  pitchId: number;
  docName: DocName;
  heading: string;
  title: string | null;
  user: User;
  role: DocRole;
  canWrite: boolean;
  locked: string | null;
}) {
  const [people, setPeople] = useState<Present[]>([]);
  const onPeople = useCallback((p: Present[]) => setPeople(p), []);
  const me = { id: user.id, name: personName(user), colour: userColour(user.id) };
  const label = `${DOC_LABEL[docName]}${title ? ` of ${title}` : ""}`;
  return (
    <>
      <PageHeader title={heading}>
        <Badge tone={canWrite ? "success" : undefined}>
          {ROLE_LABEL[role] ?? role}
          {canWrite ? " · can edit" : " · reads only"}
        </Badge>
        {role === "owner" ? (
          <ButtonLink to={`/creator/pitches/${pitchId}/edit`} variant="secondary" small>
            Edit the pitch's details
          </ButtonLink>
        ) : (
          <ButtonLink to="/collaborations" variant="secondary" small>
            All my collaborations
          </ButtonLink>
        )}
      </PageHeader>
      <nav aria-label="Documents">
        <ul className={c.tabs}>
          {DOC_NAMES.map((d) => (
            <li key={d}>
              <NavLink to={`/pitches/${pitchId}/documents/${d}`}>{DOC_LABEL[d]}</NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <div className={c.layout}>
        <div className={c.side}>
          {!canWrite && !locked && (
            <Alert kind="info">
              You can read this document as it is written; only the owner and editors change it.
            </Alert>
          )}
          <h2 className="visually-hidden">{DOC_LABEL[docName]}</h2>
          <CollabEditor
            key={`${pitchId}/${docName}`}
            pitchId={pitchId}
            docName={docName}
            label={label}
            user={me}
            canWrite={canWrite}
            onPeople={onPeople}
            locked={locked}
          />
          {docName === "synopsis" && (
            <p className={c.muted}>
              The synopsis's text becomes the pitch's synopsis (what browse and search show) each time it is saved
              to the pitch: every hundred changes, and when the last editor leaves.
            </p>
          )}
        </div>
        <div className={c.side}>
          <HereNow me={me} people={people} />
          {!locked && <Versions key={docName} pitchId={pitchId} docName={docName} canWrite={canWrite} />}
          {!locked && <CollaboratorsPanel pitchId={pitchId} role={role} userId={user.id} />}
        </div>
      </div>
    </>
  );
}

function HereNow({ me, people }: { me: { name: string; colour: string }; people: Present[] }) {
  return (
    <Card aria-labelledby="here-heading">
      <h2 id="here-heading">Here now</h2>
      <ul className={c.people} aria-label="People in this document">
        <li className={c.person}>
          <span className={c.swatch} style={{ background: me.colour }} aria-hidden="true" />
          <span>{me.name} (you)</span>
        </li>
        {people.map((p) => (
          <li key={p.userId ?? p.name} className={c.person} data-testid="present-person">
            <span className={c.swatch} style={{ background: p.colour }} aria-hidden="true" />
            <span>
              {p.name}
              {p.tabs > 1 && <span className={c.muted}> · {p.tabs} tabs</span>}
            </span>
          </li>
        ))}
      </ul>
      {people.length === 0 && <p className={c.muted}>No one else is in this document right now.</p>}
    </Card>
  );
}
