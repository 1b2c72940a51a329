// Media upload with progress. fetch() cannot report upload progress, so this one call uses
// XMLHttpRequest; it speaks the same envelope and throws the same ApiError as the typed client.
// Authentication is the HttpOnly session cookie the browser attaches (same origin).
import { ApiError, type Schemas } from "../../api/client";

export type MediaKind = Schemas["MediaOut"]["kind"];

export const KIND_LABEL: Record<MediaKind, string> = { poster: "Poster", deck: "Pitch deck", video: "Video" };

interface Envelope {
  success?: boolean;
  data?: Schemas["MediaOut"];
  error?: { code?: string; message?: string; details?: unknown };
}

function mib(bytes: number): string {
  const v = bytes / (1024 * 1024);
  return Number.isInteger(v) ? `${v} MB` : `${v.toFixed(1)} MB`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/** The server's refusal, in words a person can act on. */
function refusal(kind: MediaKind, status: number, body: Envelope | null): ApiError {
  const code = body?.error?.code ?? `HTTP_${status}`;
  const details = body?.error?.details;
  let message = body?.error?.message ?? `The upload failed (the server answered ${status}).`;
  const label = KIND_LABEL[kind].toLowerCase();
  if (code === "PAYLOAD_TOO_LARGE") {
    const limit = (details as { limit?: number } | undefined)?.limit;
    message = limit ? `That file is too big: a ${label} may be at most ${mib(limit)}.` : `That file is too big for a ${label}.`;
  } else if (code === "UNSUPPORTED_MEDIA_TYPE") {
    message = `That file type is not accepted: ${message.replace(/^A /, "a ")}.`;
  } else if (code === "CONFLICT") {
    message = `${message} Delete a file first.`;
  }
  return new ApiError(code, message, status, details);
}

export interface UploadHandle {
  promise: Promise<Schemas["MediaOut"]>;
  abort: () => void;
}

/** POST /api/pitches/{id}/media as multipart (fields `kind`, `file`); `onProgress` gets 0..1. */
export function uploadMedia(
  pitchId: number,
  kind: MediaKind,
  file: File,
  onProgress: (fraction: number) => void,
): UploadHandle {
  const xhr = new XMLHttpRequest();
  const promise = new Promise<Schemas["MediaOut"]>((resolve, reject) => {
    const form = new FormData();
    form.append("kind", kind);
    form.append("file", file, file.name);
    xhr.open("POST", `/api/pitches/${pitchId}/media`);
    xhr.responseType = "text";
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      let body: Envelope | null;
      try {
        body = JSON.parse(xhr.responseText) as Envelope;
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300 && body?.data) {
        onProgress(1);
        resolve(body.data);
      } else {
        reject(refusal(kind, xhr.status, body));
      }
    };
    xhr.onerror = () =>
      reject(
        new ApiError(
          "NETWORK",
          `The upload was cut off before the server answered. Check your connection; a very large file (over the ${KIND_LABEL[kind].toLowerCase()} limit) is also refused this way.`,
          0,
        ),
      );
    xhr.onabort = () => reject(new ApiError("ABORTED", "Upload cancelled.", 0));
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}
