// Avatar upload with progress: fetch() cannot report upload progress, so this one call uses
// XMLHttpRequest, speaking the same envelope and throwing the same ApiError as the typed client.
// The session cookie (HttpOnly, same origin) authenticates it; no token is handled here.
import { ApiError, type Schemas } from "../../api/client";
import { formatBytes } from "../creator/upload";

interface Envelope {
  data?: Schemas["ProfileOut"];
  error?: { code?: string; message?: string; details?: unknown };
  meta?: { requestId?: string };
}

export const AVATAR_TYPES = "image/jpeg,image/png,image/webp";

function refusal(status: number, body: Envelope | null): ApiError {
  const code = body?.error?.code ?? (status === 0 ? "NETWORK" : `HTTP_${status}`);
  const details = body?.error?.details;
  let message = body?.error?.message ?? (status === 0 ? "Cannot reach Pitchey. Check your connection and try again." : `The upload failed (the server answered ${status}).`);
  if (code === "PAYLOAD_TOO_LARGE") {
    const limit = (details as { limit?: number } | undefined)?.limit;
    message = limit ? `That image is too big: an avatar may be at most ${formatBytes(limit)}.` : "That image is too big.";
  } else if (code === "UNSUPPORTED_MEDIA_TYPE") {
    message = "That file is not accepted: an avatar must be a JPEG, PNG or WebP image.";
  }
  return new ApiError(code, message, status, details, body?.meta?.requestId);
}

export interface AvatarUpload {
  promise: Promise<Schemas["ProfileOut"]>;
  abort: () => void;
}

/** PUT /api/user/avatar (multipart field `file`); `onProgress` gets 0..1. */
export function uploadAvatar(file: File, onProgress: (fraction: number) => void): AvatarUpload {
  const xhr = new XMLHttpRequest();
  const promise = new Promise<Schemas["ProfileOut"]>((resolve, reject) => {
    const form = new FormData();
    form.append("file", file, file.name);
    xhr.open("PUT", "/api/user/avatar");
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
        reject(refusal(xhr.status, body));
      }
    };
    xhr.onerror = () => reject(refusal(0, null));
    xhr.onabort = () => reject(new ApiError("ABORTED", "The upload was cancelled.", 0));
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}
