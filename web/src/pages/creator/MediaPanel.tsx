// A pitch's media manager: upload a poster, deck or video with a progress bar (cancellable: the
// XHR is aborted and the server throws the partial file away), list, delete, and mark each item
// NDA-only (protected) or public.
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState } from "react";
import { ApiError, errorMessage } from "../../api/client";
import { keys } from "../../api/keys";
import { Alert, Button, Card, Checkbox, ErrorState, Loading } from "../../ui";
import { useDeleteMedia, usePitchMedia, useSetMediaProtected, type Media } from "./data";
import { formatBytes, KIND_LABEL, uploadMedia, type MediaKind, type UploadHandle } from "./upload";
import s from "./creator.module.css";

const ACCEPT: Record<MediaKind, string> = {
  poster: "image/png,image/jpeg,image/webp,.png,.jpg,.jpeg,.webp",
  deck: "application/pdf,.pdf",
  video: "video/mp4,video/quicktime,video/webm,.mp4,.mov,.webm",
};

const HINT: Record<MediaKind, string> = {
  poster: "PNG, JPEG or WebP, up to 10 MB. Public unless you mark it NDA only.",
  deck: "PDF, up to 50 MB. Protected by the NDA when the pitch requires one.",
  video: "MP4, MOV or WebM, up to 2 GB. Protected by the NDA when the pitch requires one.",
};

type UploadState =
  | { phase: "idle" }
  | { phase: "uploading"; name: string; fraction: number }
  | { phase: "done"; name: string }
  | { phase: "failed"; name: string; message: string }
  | { phase: "cancelled"; name: string };

function Uploader({ pitchId, kind }: { pitchId: number; kind: MediaKind }) {
  const qc = useQueryClient();
  const id = useId();
  const [state, setState] = useState<UploadState>({ phase: "idle" });
  const handle = useRef<UploadHandle | null>(null);
  const input = useRef<HTMLInputElement>(null);

  // Leaving the page cancels an upload in flight (its answer would land nowhere).
  useEffect(() => () => handle.current?.abort(), []);

  function start(file: File) {
    setState({ phase: "uploading", name: file.name, fraction: 0 });
    const h = uploadMedia(pitchId, kind, file, (fraction) =>
      setState((st) => (st.phase === "uploading" ? { ...st, fraction } : st)),
    );
    handle.current = h;
    h.promise.then(
      (media) => {
        qc.setQueryData<Media[]>(keys.pitchMedia(pitchId), (old) => (old ? [media, ...old] : [media]));
        void qc.invalidateQueries({ queryKey: keys.pitchMedia(pitchId) });
        setState({ phase: "done", name: file.name });
      },
      (e: unknown) =>
        setState(
          e instanceof ApiError && e.code === "ABORTED"
            ? { phase: "cancelled", name: file.name }
            : { phase: "failed", name: file.name, message: errorMessage(e) },
        ),
    );
    h.promise.finally(() => {
      handle.current = null;
      if (input.current) input.current.value = "";
    }).catch(() => undefined);
  }

  const label = KIND_LABEL[kind];
  const percent = state.phase === "uploading" ? Math.round(state.fraction * 100) : state.phase === "done" ? 100 : 0;
  return (
    <div className={s.upload}>
      <label htmlFor={id}>Upload {label.toLowerCase()}</label>
      <input
        ref={input}
        id={id}
        type="file"
        accept={ACCEPT[kind]}
        aria-describedby={`${id}-hint`}
        disabled={state.phase === "uploading"}
        onChange={(e) => {
          const f = e.target.files?.[0];
          if (f) start(f);
        }}
      />
      <span id={`${id}-hint`} className={s.muted}>
        {HINT[kind]}
      </span>
      {(state.phase === "uploading" || state.phase === "done") && (
        <div className={s.progressRow}>
          <progress
            max={100}
            value={percent}
            aria-label={`${label} upload progress`}
            data-kind={kind}
          />
          <span aria-live="polite">
            {state.phase === "uploading" ? `${percent}%` : `Uploaded ${state.name}`}
          </span>
          {state.phase === "uploading" && (
            <Button small variant="ghost" aria-label={`Cancel the ${label.toLowerCase()} upload`}
              onClick={() => handle.current?.abort()}>
              Cancel
            </Button>
          )}
        </div>
      )}
      {state.phase === "cancelled" && (
        <Alert kind="info">Upload of {state.name} cancelled; nothing was kept.</Alert>
      )}
      {state.phase === "failed" && (
        <Alert>
          {state.name}: {state.message}
        </Alert>
      )}
    </div>
  );
}

function MediaRow({ item, pitchId }: { item: Media; pitchId: number }) {
  const del = useDeleteMedia(pitchId);
  const protect = useSetMediaProtected(pitchId);
  // The box shows the person's choice at once: the mutation's own pending state arrives a tick
  // later, and a controlled checkbox would snap back in between.
  const [choice, setChoice] = useState<boolean | null>(null);
  const name = item.filename ?? `${KIND_LABEL[item.kind]} ${item.id}`;
  return (
    <li>
      <div className={s.mediaItem}>
        {item.kind === "poster" ? (
          // The smallest thumbnail once the background job made it; the original until then.
          <img className={s.thumb} src={item.thumbnails?.[0]?.url ?? item.url} alt="" loading="lazy" />
        ) : item.previewUrl ? (
          // The deck's first page or the video's frame, rendered in the background.
          <img
            className={`${s.thumb} ${s.previewThumb}`}
            src={item.previewUrl}
            alt=""
            loading="lazy"
            data-testid={`preview-${item.kind}`}
          />
        ) : (
          <span className={s.fileIcon} aria-hidden="true">
            {item.kind === "deck" ? "PDF" : "VID"}
          </span>
        )}
        <div>
          <a className={s.mediaName} href={item.url} target="_blank" rel="noopener noreferrer">
            {name}
          </a>
          <span className={s.muted}>
            {KIND_LABEL[item.kind]} · {formatBytes(item.size)}{" "}
          </span>
          <Checkbox
            label="NDA only"
            aria-label={`NDA only: ${name}`}
            checked={choice ?? item.protected}
            disabled={protect.isPending}
            onChange={(e) => {
              const value = e.target.checked;
              setChoice(value);
              protect.mutate({ mediaId: item.id, protected: value }, { onSettled: () => setChoice(null) });
            }}
          />
        </div>
        <Button small variant="secondary" busy={del.isPending} aria-label={`Delete ${name}`}
          onClick={() => del.mutate(item.id)}>
          Delete
        </Button>
      </div>
      {del.isError && <Alert>Could not delete {name}: {errorMessage(del.error)}</Alert>}
      {protect.isError && <Alert>Could not change who may see {name}: {errorMessage(protect.error)}</Alert>}
    </li>
  );
}

export function MediaPanel({ pitchId }: { pitchId: number }) {
  const media = usePitchMedia(pitchId);
  return (
    <Card aria-labelledby="media-title">
      <h2 className={s.sectionTitle} id="media-title">
        Poster, deck and video
      </h2>
      <p className={s.muted}>
        “NDA only” files are shown to you and to people whose NDA you approved; the others to everyone who
        can see the pitch.
      </p>
      <Uploader pitchId={pitchId} kind="poster" />
      <Uploader pitchId={pitchId} kind="deck" />
      <Uploader pitchId={pitchId} kind="video" />
      <h3 className={s.sectionTitle}>Files</h3>
      {media.isPending ? (
        <Loading label="Loading files…" />
      ) : media.isError ? (
        <ErrorState error={media.error} retry={() => void media.refetch()} />
      ) : media.data.length === 0 ? (
        <p className={s.muted}>No files yet. Pitches with a poster get more views.</p>
      ) : (
        <ul className={s.mediaList} aria-label="Uploaded files">
          {media.data.map((m) => (
            <MediaRow key={m.id} item={m} pitchId={pitchId} />
          ))}
        </ul>
      )}
    </Card>
  );
}
