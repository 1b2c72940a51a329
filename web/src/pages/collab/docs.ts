// The pure pieces of "Write together" (no React, no socket): which documents a pitch has, where a
// document's socket lives, each person's colour, what a close code means in words, and the
// "saved" status line. Unit-tested in docs.test.ts; the page and the editor only wire them up.

/** The documents of a pitch, in tab order (the server creates each on first use). */
export const DOC_NAMES = ["synopsis", "treatment", "notes"] as const;
export type DocName = (typeof DOC_NAMES)[number];

export const DOC_LABEL: Record<DocName, string> = {
  synopsis: "Synopsis",
  treatment: "Treatment",
  notes: "Notes",
};

export function asDocName(v: string | undefined | null): DocName | null {
  return DOC_NAMES.find((d) => d === v) ?? null;
}

/**
 * The name of the Y.XmlFragment that holds a document's rich text inside its Y.Doc. The server
 * reads the same fragment to copy the synopsis's plain text into the pitch (docs/protocol.md).
 */
export const DOC_FIELD = "default";

/**
 * The y-websocket provider's server URL for a pitch: it appends `/<docName>` itself, giving
 * `GET /ws/docs/{pitchId}/{docName}` on the page's own origin. The session cookie authenticates it
 * (same origin), so no token ever appears in JS or the URL.
 */
export function docServerUrl(loc: { protocol: string; host: string }, pitchId: number): string {
  return `${loc.protocol === "https:" ? "wss:" : "ws:"}//${loc.host}/ws/docs/${pitchId}`;
}

// Label backgrounds behind white text: each gives at least 4.5:1 against #fff (WCAG AA), and no
// two neighbours are alike, so two people side by side are told apart.
export const PALETTE = [
  "#b42318", // red
  "#1d4ed8", // blue
  "#067647", // green
  "#6d28d9", // violet
  "#a15c07", // amber
  "#c11574", // pink
  "#0e7090", // teal
  "#4d7c0f", // olive
] as const;

/** A person's colour: the same on every screen and every visit (chosen by user id, not at random). */
export function userColour(userId: number): string {
  const i = ((userId % PALETTE.length) + PALETTE.length) % PALETTE.length;
  return PALETTE[i] ?? PALETTE[0];
}

/** What the socket's close code says, for a person. `terminal`: reconnecting cannot help. */
export interface CloseInfo {
  terminal: boolean;
  message: string;
}

/**
 * The close codes of /ws/docs (docs/protocol.md, "Close codes"). 4003 means both "may not open"
 * and "no longer may": `wasOpen` (the document had loaded on this socket before) or the close
 * reason "Access removed" tells the second.
 */
export function closeInfo(code: number, reason = "", wasOpen = false): CloseInfo | null {
  switch (code) {
    case 4001:
      return { terminal: true, message: "Your session has ended. Sign in again to keep writing." };
    case 4003:
      return /removed/i.test(reason) || wasOpen
        ? {
            terminal: true,
            message:
              "You no longer have access to this document (you were removed from its collaborators, or the pitch was hidden). Changes you made after that were not saved.",
          }
        : {
            terminal: true,
            message:
              "You do not have access to this document. The pitch's owner can invite you as a collaborator.",
          };
    case 4004:
      return { terminal: true, message: "This document does not exist, or its pitch is not visible to you." };
    case 4005:
      return {
        terminal: true,
        message: "You can only read this document, so your change was not saved. Reload the page to read on.",
      };
    case 1009:
    case 4013:
      return {
        terminal: true,
        message:
          "That change was too large to save (one change may be at most 1 MiB): it was not saved. Reload the page to carry on from the saved text.",
      };
    case 4014:
      return {
        terminal: true,
        message:
          "The document has reached its size limit, so the last change was not saved. Shorten it elsewhere, or move some text to another document, then reload.",
      };
    case 4008:
      return {
        terminal: true,
        message: "The server could not read a message from this page, so it closed the document. Reload the page to carry on.",
      };
    case 4029:
      return {
        terminal: false,
        message: "Too many changes too fast: the connection paused and comes back by itself; nothing is lost.",
      };
    case 1013:
      return {
        terminal: false,
        message: "The server could not store the last change just now; reconnecting, and it will be sent again.",
      };
    case 4009:
      return { terminal: false, message: "The connection fell behind; reconnecting…" };
    case 1012:
      return { terminal: false, message: "The server is restarting; reconnecting…" };
    default:
      if (code >= 4000 && code < 5000) {
        return { terminal: true, message: `The server closed this document (code ${code}). Reload the page to try again.` };
      }
      return null;
  }
}

/** Whether y-websocket should try again after the server closed the socket with `code`. */
export function shouldReconnect(code: number): boolean {
  return !(closeInfo(code)?.terminal ?? false);
}

export type SaveStatus =
  | { kind: "connecting" }
  | { kind: "loading" }
  | { kind: "saving" }
  | { kind: "saved" }
  | { kind: "offline"; unsaved: boolean };

/**
 * Tracks whether this tab's edits are stored. The stock y-websocket protocol has no acknowledgement,
 * so we ask for one in its own terms: after a pause in typing we send a sync step 1, and the
 * server's step 2 answer comes after it has handled (stored: the server appends every update to
 * PostgreSQL before it goes on, docs/protocol.md) every update we sent before that step 1 on the
 * same socket. Answers come back in the order the questions went, so a FIFO pairs them; the
 * provider's own step 1 on connect is in the FIFO too, as a question that confirms nothing.
 */
export class SaveTracker {
  private editSeq = 0;
  private confirmedSeq = 0;
  private connected = false;
  private synced = false;
  private inFlight: (number | null)[] = [];

  /** The socket opened: y-websocket has just sent its own sync step 1. */
  onConnected(): void {
    this.connected = true;
    this.synced = false;
    this.inFlight = [null];
  }

  onDisconnected(): void {
    this.connected = false;
    this.synced = false;
    this.inFlight = [];
  }

  /** A change made in this tab (not one that arrived from the server). */
  onLocalEdit(): void {
    this.editSeq += 1;
  }

  /** Whether a step 1 should be sent now to learn that the edits so far are stored. */
  needsFlush(): boolean {
    return this.connected && this.synced && this.editSeq > this.confirmedSeq && !this.inFlight.includes(this.editSeq);
  }

  /** We sent a step 1 after the edits so far. */
  onFlushSent(): void {
    this.inFlight.push(this.editSeq);
  }

  /** A sync step 2 arrived: the answer to the oldest step 1 in flight. */
  onStep2(): void {
    const seq = this.inFlight.shift();
    if (seq !== undefined && seq !== null) this.confirmedSeq = Math.max(this.confirmedSeq, seq);
    this.synced = true;
  }

  status(): SaveStatus {
    const unsaved = this.editSeq > this.confirmedSeq;
    if (!this.connected) return this.editSeq === 0 ? { kind: "connecting" } : { kind: "offline", unsaved };
    if (!this.synced) return { kind: "loading" };
    return unsaved ? { kind: "saving" } : { kind: "saved" };
  }
}

export function saveStatusText(s: SaveStatus): string {
  switch (s.kind) {
    case "connecting":
      return "Connecting…";
    case "loading":
      return "Loading the latest text…";
    case "saving":
      return "Saving…";
    case "saved":
      return "All changes saved";
    case "offline":
      return s.unsaved
        ? "Offline: your changes are kept in this tab and sent when the connection returns (do not close it)"
        : "Offline: reconnecting…";
  }
}

/** The y-protocols sync message type at `pos` of a message (0 step 1, 1 step 2, 2 update). */
export function syncMessageType(bytes: Uint8Array, pos: number): number | null {
  // A var-uint; the three types are all below 128, so one byte.
  const b = bytes[pos];
  return b === undefined || b > 127 ? null : b;
}

/** People present in the document, from the awareness states (one entry per person, not per tab). */
export interface Present {
  userId: number | null;
  name: string;
  colour: string;
  tabs: number;
}

export function presentPeople(
  states: Iterable<[number, Record<string, unknown> | null | undefined]>,
  ownClientId: number,
): Present[] {
  const byKey = new Map<string, Present>();
  for (const [clientId, state] of states) {
    if (clientId === ownClientId) continue;
    const user = (state?.user ?? null) as { id?: unknown; name?: unknown; color?: unknown } | null;
    if (!user || typeof user.name !== "string") continue;
    const userId = typeof user.id === "number" ? user.id : null;
    const key = userId !== null ? `u${userId}` : `c${clientId}`;
    const prev = byKey.get(key);
    if (prev) prev.tabs += 1;
    else
      byKey.set(key, {
        userId,
        name: user.name,
        colour: typeof user.color === "string" ? user.color : PALETTE[0],
        tabs: 1,
      });
  }
  return [...byKey.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function varUint(n: number, out: number[]): void {
  let v = n;
  while (v > 127) {
    out.push(0x80 | (v & 127));
    v = Math.floor(v / 128);
  }
  out.push(v);
}

/**
 * A y-protocols sync step 1 message (`varUint(0)` sync, `varUint(0)` step 1, `varBytes(stateVector)`):
 * the checkpoint the editor sends after a pause in typing (see SaveTracker).
 */
export function encodeSyncStep1(stateVector: Uint8Array): Uint8Array {
  const head: number[] = [0, 0];
  varUint(stateVector.length, head);
  const out = new Uint8Array(head.length + stateVector.length);
  out.set(head, 0);
  out.set(stateVector, head.length);
  return out;
}
