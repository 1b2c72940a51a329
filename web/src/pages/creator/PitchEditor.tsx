// Create a pitch (saved as a draft), then edit it: fields, poster and deck, publish, delete.
import { useState } from "react";
import { Link, useLocation, useNavigate, useParams } from "react-router";
import { ApiError, errorMessage } from "../../api/client";
import { useSession } from "../../auth/session";
import { Alert, Badge, Button, ButtonLink, Card, ErrorState, Loading, PageHeader } from "../../ui";
import { formatDateTime } from "../../lib/format";
import { STATUS_LABEL, STATUS_TONE, useCreatePitch, useDeletePitch, usePitch, useUpdatePitch, type Pitch, type PitchStatus } from "./data";
import { MediaPanel } from "./MediaPanel";
import { useUnsavedChangesGuard } from "./unsaved";
import { PitchForm } from "./PitchForm";
import { bodyFrom, EMPTY_FORM, formFromPitch, validate, type PitchFormState } from "./pitchFields";
import s from "./creator.module.css";


/** Field errors of the last failed save: the server's VALIDATION_ERROR details, by field. */
function serverFieldErrors(e: unknown): Record<string, string> {
  return e instanceof ApiError ? e.fieldErrors() : {};
}

export default function PitchEditor() {
  const params = useParams();
  if (params.id === undefined) return <NewPitch />;
  const id = Number(params.id);
  if (!Number.isInteger(id) || id <= 0) {
    return <Alert>There is no pitch at this address.</Alert>;
  }
  return <EditPitchLoader key={id} id={id} />;
}

function NewPitch() {
  const [form, setForm] = useState<PitchFormState>(EMPTY_FORM);
  const [clientErrors, setClientErrors] = useState<Record<string, string>>({});
  const [attempt, setAttempt] = useState(0);
  const create = useCreatePitch();
  const navigate = useNavigate();
  const guard = useUnsavedChangesGuard(JSON.stringify(form) !== JSON.stringify(EMPTY_FORM));
  const errors = { ...serverFieldErrors(create.error), ...clientErrors };
  const general = create.error && !Object.keys(serverFieldErrors(create.error)).length ? create.error : null;

  function save() {
    const found = validate(form);
    setClientErrors(found);
    if (Object.keys(found).length) return setAttempt((n) => n + 1);
    create.mutate(
      { ...bodyFrom(form), status: "draft" },
      {
        onSuccess: (p) => {
          guard.allowNextNavigation();
          void navigate(`/creator/pitches/${p.id}/edit`, { replace: true, state: { created: true } });
        },
        onError: () => setAttempt((n) => n + 1),
      },
    );
  }

  return (
    <>
      <PageHeader title="New pitch">
        <ButtonLink to="/creator/pitches" variant="secondary" small>
          Back to my pitches
        </ButtonLink>
      </PageHeader>
      {guard.prompt}
      <div className={s.editor}>
        <Card>
          {general && <Alert>{errorMessage(general)}</Alert>}
          <PitchForm value={form} onChange={setForm} errors={errors} onSubmit={save} attempt={attempt}>
            <Button type="submit" busy={create.isPending}>
              Save as draft
            </Button>
            <span className={s.muted}>Nobody else sees a draft. Add a poster and a deck next.</span>
          </PitchForm>
        </Card>
        <div className={s.side}>
          <Card>
            <h2 className={s.sectionTitle}>Poster and deck</h2>
            <p className={s.muted}>Save the draft first; then you can upload a poster and a pitch deck here.</p>
          </Card>
        </div>
      </div>
    </>
  );
}

function EditPitchLoader({ id }: { id: number }) {
  const pitch = usePitch(id);
  const session = useSession();
  if (pitch.isPending) return <Loading label="Loading the pitch…" />;
  if (pitch.isError) {
    return (
      <>
        <PageHeader title="Edit pitch" />
        <ErrorState error={pitch.error} retry={() => void pitch.refetch()} />
        <ButtonLink to="/creator/pitches" variant="secondary">
          Back to my pitches
        </ButtonLink>
      </>
    );
  }
  if (session.data && pitch.data.userId !== session.data.id) {
    return <Alert>You can only edit your own pitches.</Alert>;
  }
  return <EditPitch pitch={pitch.data} />;
}

function EditPitch({ pitch }: { pitch: Pitch }) {
  // The form starts from the stored pitch once; live counter updates of the same pitch must not
  // overwrite what is being typed.
  const [form, setForm] = useState<PitchFormState>(() => formFromPitch(pitch));
  const [clientErrors, setClientErrors] = useState<Record<string, string>>({});
  const [attempt, setAttempt] = useState(0);
  const location = useLocation();
  const [notice, setNotice] = useState<string | null>(
    (location.state as { created?: boolean } | null)?.created
      ? "Draft saved. Add a poster and a deck, then publish when you are ready."
      : null,
  );
  const update = useUpdatePitch(pitch.id);
  const errors = { ...serverFieldErrors(update.error), ...clientErrors };
  const general = update.error && !Object.keys(serverFieldErrors(update.error)).length ? update.error : null;
  const dirty = JSON.stringify(form) !== JSON.stringify(formFromPitch(pitch));
  const guard = useUnsavedChangesGuard(dirty);

  function save(status?: PitchStatus) {
    const found = validate(form);
    setClientErrors(found);
    if (Object.keys(found).length) return setAttempt((n) => n + 1);
    setNotice(null);
    update.mutate(
      { ...bodyFrom(form), ...(status ? { status } : {}) },
      {
        onSuccess: (p) => {
          setForm(formFromPitch(p));
          setNotice(
            status === "published"
              ? "Published. Investors can find it now."
              : status === "archived"
                ? "Archived. It is hidden from everyone but you."
                : status === "draft"
                  ? "Moved back to drafts."
                  : "Changes saved.",
          );
        },
        onError: () => setAttempt((n) => n + 1),
      },
    );
  }

  return (
    <>
      <PageHeader title={`Edit: ${pitch.title}`}>
        <Badge tone={STATUS_TONE[pitch.status]}>{STATUS_LABEL[pitch.status]}</Badge>
        {pitch.status === "published" && (
          <ButtonLink to={`/pitches/${pitch.id}`} variant="secondary" small>
            View public page
          </ButtonLink>
        )}
        <ButtonLink to={`/creator/pitches/${pitch.id}/analytics`} variant="secondary" small>
          Analytics
        </ButtonLink>
        {/* The synopsis, treatment and notes written live with invited collaborators. */}
        <ButtonLink to={`/pitches/${pitch.id}/documents/synopsis`} variant="secondary" small>
          Write together
        </ButtonLink>
        <ButtonLink to="/creator/pitches" variant="secondary" small>
          My pitches
        </ButtonLink>
      </PageHeader>
      {guard.prompt}
      {notice && (
        <Alert kind="success">
          {notice}{" "}
          {pitch.status === "published" && <Link to="/creator/pitches">See it in My pitches</Link>}
        </Alert>
      )}
      <div className={s.editor}>
        <Card>
          {general && <Alert>{errorMessage(general)}</Alert>}
          <PitchForm value={form} onChange={setForm} errors={errors} onSubmit={() => save()} attempt={attempt}>
            <Button type="submit" variant={pitch.status === "draft" ? "secondary" : "primary"}
              busy={update.isPending && update.variables?.status === undefined}>
              {pitch.status === "draft" ? "Save draft" : "Save changes"}
            </Button>
            <span className={s.muted} aria-live="polite">
              {dirty ? "Unsaved changes" : `Saved ${formatDateTime(pitch.updatedAt)}`}
            </span>
          </PitchForm>
        </Card>
        <div className={s.side}>
          <StatusCard pitch={pitch} busy={update.isPending} onStatus={save} />
          <MediaPanel pitchId={pitch.id} />
          <DeleteCard pitch={pitch} beforeLeaving={guard.allowNextNavigation} />
        </div>
      </div>
    </>
  );
}

function StatusCard({ pitch, busy, onStatus }: { pitch: Pitch; busy: boolean; onStatus: (s: PitchStatus) => void }) {
  return (
    <Card aria-labelledby="status-title">
      <h2 className={s.sectionTitle} id="status-title">
        Status: {STATUS_LABEL[pitch.status]}
      </h2>
      {pitch.status === "draft" && (
        <>
          <p className={s.muted}>Publishing saves your changes and shows the pitch to the people its visibility allows.</p>
          <Button busy={busy} onClick={() => onStatus("published")}>
            Publish
          </Button>
        </>
      )}
      {pitch.status === "published" && (
        <>
          <p className={s.muted}>
            Published {formatDateTime(pitch.publishedAt)} · {pitch.viewCount} views · {pitch.likeCount} likes
          </p>
          <Button variant="secondary" busy={busy} onClick={() => onStatus("archived")}>
            Archive
          </Button>
        </>
      )}
      {pitch.status === "archived" && (
        <>
          <p className={s.muted}>Archived pitches are hidden from everyone but you.</p>
          <Button busy={busy} onClick={() => onStatus("published")}>
            Publish again
          </Button>
        </>
      )}
    </Card>
  );
}

function DeleteCard({ pitch, beforeLeaving }: { pitch: Pitch; beforeLeaving: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const del = useDeletePitch(pitch.id);
  const navigate = useNavigate();
  return (
    <Card aria-labelledby="delete-title">
      <h2 className={s.sectionTitle} id="delete-title">
        Delete pitch
      </h2>
      {!confirming ? (
        <Button variant="secondary" onClick={() => setConfirming(true)}>
          Delete this pitch…
        </Button>
      ) : (
        <div className={s.confirm} role="group" aria-label="Confirm deletion">
          <p>
            Delete “{pitch.title}” with its files, views and likes? This cannot be undone.
          </p>
          {del.isError && <Alert>{errorMessage(del.error)}</Alert>}
          <div className={s.actions}>
            <Button variant="danger" busy={del.isPending} autoFocus
              onClick={() =>
                del.mutate(undefined, {
                  onSuccess: () => {
                    beforeLeaving();
                    void navigate("/creator/pitches", { replace: true });
                  },
                })
              }>
              Delete permanently
            </Button>
            <Button variant="secondary" onClick={() => setConfirming(false)}>
              Keep it
            </Button>
          </div>
        </div>
      )}
    </Card>
  );
}
