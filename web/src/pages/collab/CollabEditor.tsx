// The rich-text editor bound to one Yjs document over /ws/docs/{pitchId}/{docName}: TipTap's
// Collaboration extension on a Y.Doc, the stock y-websocket provider (same origin, the session
// cookie authenticates it: no token in JS), other people's carets with their names and colours,
// and a status line that says "saved" only once the server has confirmed it (SaveTracker).
import Collaboration from "@tiptap/extension-collaboration";
import CollaborationCaret from "@tiptap/extension-collaboration-caret";
import { EditorContent, useEditor, useEditorState, type Editor } from "@tiptap/react";
import StarterKit from "@tiptap/starter-kit";
import { useEffect, useState } from "react";
import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";
import { Alert, Button } from "../../ui";
import {
  closeInfo,
  DOC_FIELD,
  docServerUrl,
  encodeSyncStep1,
  presentPeople,
  SaveTracker,
  saveStatusText,
  shouldReconnect,
  syncMessageType,
  type CloseInfo,
  type Present,
  type SaveStatus,
} from "./docs";
import c from "./collab.module.css";

export interface EditorUser {
  id: number;
  name: string;
  colour: string;
}

interface Session {
  doc: Y.Doc;
  provider: WebsocketProvider;
}

/** How long typing must pause before asking the server to confirm what it has stored. */
const CHECKPOINT_MS = 400;

/**
 * One Y.Doc and one provider per (pitch, document), made in an effect so a discarded render leaves
 * no socket behind; the tracker's status, the people present and a close reason come out as state.
 */
function useDocSession(pitchId: number, docName: string, user: EditorUser, canWrite: boolean, locked: boolean) {
  const [session, setSession] = useState<Session | null>(null);
  const [status, setStatus] = useState<SaveStatus>({ kind: "connecting" });
  const [people, setPeople] = useState<Present[]>([]);
  const [closed, setClosed] = useState<CloseInfo | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(() => {
    const doc = new Y.Doc();
    const tracker = new SaveTracker();
    let wasOpen = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const provider = new WebsocketProvider(docServerUrl(window.location, pitchId), docName, doc, {
      // Every tab goes through the server, so "saved" means stored, never "told another tab".
      disableBc: true,
      maxBackoffTime: 5000,
      shouldReconnect: (ev) => shouldReconnect(ev.code),
    });
    const report = () => setStatus(tracker.status());

    // A checkpoint: a sync step 1 after the edits so far; its step 2 answer confirms them.
    const checkpoint = () => {
      timer = undefined;
      const ws = provider.ws;
      if (!tracker.needsFlush() || !ws || ws.readyState !== WebSocket.OPEN) return;
      ws.send(encodeSyncStep1(Y.encodeStateVector(doc)));
      tracker.onFlushSent();
    };
    const scheduleCheckpoint = () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(checkpoint, CHECKPOINT_MS);
    };

    // Learn of every sync step 2 the server sends (the answers to our step 1s).
    const handleSync = provider.messageHandlers[0];
    if (handleSync) {
      provider.messageHandlers[0] = (encoder, decoder, prov, emitSynced, messageType) => {
        const type = syncMessageType(decoder.arr, decoder.pos);
        handleSync(encoder, decoder, prov, emitSynced, messageType);
        if (type === 1) {
          tracker.onStep2();
          wasOpen = true;
          setNotice(null);
          if (tracker.needsFlush()) scheduleCheckpoint();
          report();
        }
      };
    }
    provider.on("status", ({ status: s }) => {
      if (s === "connected") tracker.onConnected();
      else if (s === "disconnected") tracker.onDisconnected();
      report();
    });
    provider.on("connection-close", (ev) => {
      if (!ev) return;
      const info = closeInfo(ev.code, ev.reason, wasOpen);
      if (info && !info.terminal) setNotice(info.message);
    });
    provider.on("closed", ({ code, reason }) => {
      setClosed(closeInfo(code, reason, wasOpen) ?? { terminal: true, message: `The server closed this document (code ${code}).` });
    });
    const onUpdate = (_update: Uint8Array, origin: unknown) => {
      if (origin === provider) return;
      tracker.onLocalEdit();
      report();
      scheduleCheckpoint();
    };
    doc.on("update", onUpdate);
    if (!canWrite) {
      // A reader sends no document updates at all: the server closes a reader's update with 4005.
      doc.off("update", provider._updateHandler);
    }

    const onAwareness = () => setPeople(presentPeople(provider.awareness.getStates(), doc.clientID));
    provider.awareness.on("change", onAwareness);
    provider.awareness.setLocalStateField("user", { id: user.id, name: user.name, color: user.colour });

    setSession({ doc, provider });
    return () => {
      if (timer !== undefined) clearTimeout(timer);
      provider.awareness.off("change", onAwareness);
      doc.off("update", onUpdate);
      provider.destroy();
      doc.destroy();
      setSession(null);
      setStatus({ kind: "connecting" });
      setPeople([]);
      setClosed(null);
      setNotice(null);
    };
  }, [pitchId, docName, user.id, user.name, user.colour, canWrite]);

  // Access withdrawn (the page learnt it over REST): stop sending, and leave the others' view.
  useEffect(() => {
    if (locked && session) session.provider.disconnect();
  }, [locked, session]);

  return { session, status, people, closed, notice };
}

export interface CollabEditorProps {
  pitchId: number;
  docName: string;
  /** The editor's accessible name, e.g. "Synopsis of Night Train". */
  label: string;
  user: EditorUser;
  canWrite: boolean;
  onPeople?: (people: Present[]) => void;
  /** Set when the page learns that access was withdrawn: the text stays readable, nothing more is sent. */
  locked?: string | null;
}

export default function CollabEditor(props: CollabEditorProps) {
  const locked = props.locked ?? null;
  const live = useDocSession(props.pitchId, props.docName, props.user, props.canWrite, locked !== null);
  const { session, status, people, notice } = live;
  // A close from the server and a withdrawal learnt over REST end the document alike.
  const closed = live.closed ?? (locked !== null ? { terminal: true, message: locked } : null);
  const { onPeople } = props;
  useEffect(() => onPeople?.(locked !== null ? [] : people), [people, onPeople, locked]);

  return (
    <div className={c.editorWrap}>
      {closed && (
        <Alert kind="error">
          {closed.message}{" "}
          <Button small variant="secondary" onClick={() => window.location.reload()}>
            Reload the page
          </Button>
        </Alert>
      )}
      {!closed && notice && <Alert kind="warn">{notice}</Alert>}
      {session ? (
        <BoundEditor key={`${props.pitchId}/${props.docName}`} {...props} session={session} editable={props.canWrite && !closed} />
      ) : (
        <div className={c.editorPlaceholder} aria-hidden="true" />
      )}
      <p className={c.status} role="status" aria-live="polite" data-testid="doc-status" data-status={closed ? "closed" : status.kind}>
        {closed
          ? "Closed: nothing more is sent"
          : !props.canWrite && status.kind === "saved"
            ? "Up to date · read only"
            : `${saveStatusText(status)}${props.canWrite ? "" : " · read only"}`}
      </p>
    </div>
  );
}

function BoundEditor({
  session,
  label,
  user,
  editable,
}: CollabEditorProps & { session: Session; editable: boolean }) {
  const editor = useEditor(
    {
      // The app's CSP has no 'unsafe-inline' style: TipTap's injected <style> would be refused, so
      // its few rules live in collab.module.css instead.
      injectCSS: false,
      editable,
      extensions: [
        // Collaboration brings its own undo (of one's own changes only). No trailing node: it would
        // write a paragraph into a document only opened, and a reader's write closes it (4005).
        StarterKit.configure({ undoRedo: false, trailingNode: false, link: { openOnClick: false } }),
        Collaboration.configure({ document: session.doc, field: DOC_FIELD }),
        CollaborationCaret.configure({
          provider: session.provider,
          user: { id: user.id, name: user.name, color: user.colour },
        }),
      ],
      editorProps: {
        attributes: {
          "aria-label": label,
          "aria-multiline": "true",
          role: "textbox",
          "aria-readonly": editable ? "false" : "true",
          class: c.prose ?? "",
          "data-testid": "doc-editor",
        },
      },
    },
    [session],
  );

  useEffect(() => {
    if (editor && editor.isEditable !== editable) editor.setEditable(editable);
  }, [editor, editable]);

  return (
    <div className={c.editorCard}>
      {editable && editor && <Toolbar editor={editor} label={label} />}
      <EditorContent editor={editor} className={c.editorContent} />
    </div>
  );
}

function Toolbar({ editor, label }: { editor: Editor; label: string }) {
  // Re-render the toolbar only when the marks under the cursor change, not on every keystroke.
  const active = useEditorState({
    editor,
    selector: ({ editor: e }) => ({
      bold: e.isActive("bold"),
      italic: e.isActive("italic"),
      heading: e.isActive("heading", { level: 2 }),
      bullets: e.isActive("bulletList"),
      numbers: e.isActive("orderedList"),
    }),
  });
  const buttons: { key: keyof typeof active; text: string; name: string; run: () => void }[] = [
    { key: "bold", text: "B", name: "Bold", run: () => editor.chain().focus().toggleBold().run() },
    { key: "italic", text: "I", name: "Italic", run: () => editor.chain().focus().toggleItalic().run() },
    { key: "heading", text: "H", name: "Heading", run: () => editor.chain().focus().toggleHeading({ level: 2 }).run() },
    { key: "bullets", text: "•", name: "Bulleted list", run: () => editor.chain().focus().toggleBulletList().run() },
    { key: "numbers", text: "1.", name: "Numbered list", run: () => editor.chain().focus().toggleOrderedList().run() },
  ];
  return (
    <div className={c.toolbar} role="toolbar" aria-label={`Formatting: ${label}`}>
      {buttons.map((b) => (
        <button
          key={b.key}
          type="button"
          className={c.tool}
          title={b.name}
          aria-pressed={active[b.key]}
          // Keep the text selection: a mouse press on the button must not blur the editor.
          onMouseDown={(e) => e.preventDefault()}
          onClick={b.run}
        >
          {/* The glyph is decoration; the name is the words (a screen reader says "Bold"). */}
          <span aria-hidden="true">{b.text}</span>
          <span className="visually-hidden">{b.name}</span>
        </button>
      ))}
    </div>
  );
}
