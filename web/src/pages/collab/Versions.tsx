// A document's versions beside the editor: the snapshots the server takes (every 100 updates, when
// the last editor leaves), newest first, with who wrote last before each and when. A writer may
// restore one (asked first): the server applies it as an ordinary new update, so everyone's editor
// shows it at once and nothing is rewritten (restoring a later version undoes it).
import { useState } from "react";
import { errorMessage } from "../../api/client";
import { formatDateTime } from "../../lib/format";
import { Alert, Button, Card, Empty, ErrorState, Loading } from "../../ui";
import c from "./collab.module.css";
import { useRestoreVersion, useVersions, type Version } from "./data";
import { DOC_LABEL, type DocName } from "./docs";

function sizeText(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} kB`;
}

export function Versions({ pitchId, docName, canWrite }: { pitchId: number; docName: DocName; canWrite: boolean }) {
  const q = useVersions(pitchId, docName);
  const restore = useRestoreVersion(pitchId, docName);
  const [done, setDone] = useState<string | null>(null);
  return (
    <Card aria-labelledby="versions-heading">
      <h2 id="versions-heading">Versions</h2>
      <p className={`${c.muted} ${c.small}`}>
        Saved every hundred changes and when the last editor leaves.
        {canWrite && " Restoring one changes the text for everyone, as a new change you can undo by restoring another."}
      </p>
      {done && <Alert kind="success">{done}</Alert>}
      {restore.isError && <Alert kind="error">{errorMessage(restore.error)}</Alert>}
      {q.isPending ? (
        <Loading label="Loading the versions…" />
      ) : q.isError ? (
        <ErrorState error={q.error} retry={() => void q.refetch()} />
      ) : q.data.length === 0 ? (
        <Empty>No version of the {DOC_LABEL[docName].toLowerCase()} is saved yet.</Empty>
      ) : (
        <ul className={c.list} aria-label={`Versions of the ${DOC_LABEL[docName].toLowerCase()}`}>
          {q.data.map((v) => (
            <VersionRow
              key={v.id}
              version={v}
              canWrite={canWrite}
              busy={restore.isPending && restore.variables === v.id}
              disabled={restore.isPending}
              onRestore={() => {
                setDone(null);
                restore.mutate(v.id, {
                  onSuccess: () => setDone(`Restored the version of ${formatDateTime(v.createdAt)}: everyone sees it now.`),
                });
              }}
            />
          ))}
        </ul>
      )}
      <div className={c.below}>
        <Button small variant="ghost" onClick={() => void q.refetch()} busy={q.isFetching && !q.isPending}>
          Refresh the versions
        </Button>
      </div>
    </Card>
  );
}

function VersionRow({
  version: v,
  canWrite,
  busy,
  disabled,
  onRestore,
}: {
  version: Version;
  canWrite: boolean;
  busy: boolean;
  disabled: boolean;
  onRestore: () => void;
}) {
  const [confirming, setConfirming] = useState(false);
  const when = formatDateTime(v.createdAt);
  return (
    <li className={c.row} data-testid="version">
      <div className={c.who}>
        <strong>{when}</strong>
        <span className={`${c.muted} ${c.small}`}>
          {v.authorName ? `by ${v.authorName}` : "by Pitchey"} · {sizeText(v.size)}
        </span>
      </div>
      {canWrite &&
        (confirming ? (
          <span className={c.actions}>
            <Button
              small
              variant="danger"
              busy={busy}
              disabled={disabled}
              onClick={() => {
                onRestore();
                setConfirming(false);
              }}
            >
              Restore the version of {when} now
            </Button>
            <Button small variant="ghost" onClick={() => setConfirming(false)}>
              Keep
            </Button>
          </span>
        ) : (
          <Button small variant="secondary" disabled={disabled} onClick={() => setConfirming(true)}>
            Restore<span className="visually-hidden"> the version of {when}</span>
          </Button>
        ))}
    </li>
  );
}
