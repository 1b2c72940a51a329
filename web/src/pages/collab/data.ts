// Server state of co-editing, all through TanStack Query under keys.collab (docs/api.md,
// "Collaborators and documents"): the caller's role in a pitch's documents, a pitch's
// collaborators (owner: invite, remove), and the caller's own invitations and collaborations.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../../api/client";
import { keys } from "../../api/keys";
import { useUserEvents } from "../../realtime";

export type Collaborator = Schemas["CollaboratorOut"];
export type Collaboration = Schemas["CollaborationOut"];
export type DocumentsInfo = Schemas["DocumentsOut"];
export type DocRole = DocumentsInfo["role"];
export type CollabRole = Collaborator["role"];
export type Version = Schemas["VersionOut"];

export const ROLE_LABEL: Record<string, string> = {
  owner: "Owner",
  editor: "Editor",
  viewer: "Viewer",
  nda: "NDA holder",
};

export const ROLE_OPTIONS: { value: CollabRole; label: string }[] = [
  { value: "editor", label: "Editor (writes)" },
  { value: "viewer", label: "Viewer (reads only)" },
];

/** My role in a pitch's documents (403 for anyone who may not open them). */
export function useDocuments(pitchId: number) {
  return useQuery({
    queryKey: keys.pitchDocuments(pitchId),
    queryFn: () => unwrap(api.GET("/api/pitches/{id}/documents", { params: { path: { id: pitchId } } })),
    retry: false,
  });
}

export function useCollaborators(pitchId: number, enabled = true) {
  return useQuery({
    queryKey: keys.collaborators(pitchId),
    queryFn: () =>
      unwrap(api.GET("/api/pitches/{id}/collaborators", { params: { path: { id: pitchId } } })).then(
        (r) => r.collaborators,
      ),
    enabled,
  });
}

export function useCollaborations() {
  return useQuery({
    queryKey: keys.collaborations,
    queryFn: () => unwrap(api.GET("/api/collaborations")).then((r) => r.collaborations),
  });
}

export function useInvite(pitchId: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Schemas["CollaboratorInvite"]) =>
      unwrap(api.POST("/api/pitches/{id}/collaborators", { params: { path: { id: pitchId } }, body })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.collaborators(pitchId) }),
  });
}

export function useRemoveCollaborator(pitchId: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (userId: number) =>
      unwrap(
        api.DELETE("/api/pitches/{id}/collaborators/{user_id}", { params: { path: { id: pitchId, user_id: userId } } }),
      ),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.collab }),
  });
}

/** Accept or decline an invitation to a pitch (the invitee). */
export function useAnswerInvitation() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ pitchId, answer }: { pitchId: number; answer: "accept" | "decline" }) =>
      answer === "accept"
        ? unwrap(api.POST("/api/pitches/{id}/collaborators/accept", { params: { path: { id: pitchId } }, body: {} }))
        : unwrap(api.POST("/api/pitches/{id}/collaborators/decline", { params: { path: { id: pitchId } }, body: {} })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.collab }),
  });
}

/** A document's snapshots, newest first (taken every 100 updates and when the last editor leaves). */
export function useVersions(pitchId: number, doc: string) {
  return useQuery({
    queryKey: keys.docVersions(pitchId, doc),
    queryFn: () =>
      unwrap(
        api.GET("/api/pitches/{id}/documents/{name}/versions", { params: { path: { id: pitchId, name: doc } } }),
      ).then((r) => r.versions),
  });
}

/** Restore a version: the server applies it as one ordinary new update, which reaches every editor. */
export function useRestoreVersion(pitchId: number, doc: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (versionId: number) =>
      unwrap(
        api.POST("/api/pitches/{id}/documents/{name}/versions/{version_id}/restore", {
          params: { path: { id: pitchId, name: doc, version_id: versionId } },
        }),
      ),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.docVersions(pitchId, doc) }),
  });
}

/** Invitations, answers and removals arrive as `collaborator_*` notifications: refetch what they change. */
export function useCollabNotifications() {
  const qc = useQueryClient();
  useUserEvents((f) => {
    const kind = (f.data as { kind?: unknown } | null)?.kind;
    if (f.type === "notification" && typeof kind === "string" && kind.startsWith("collaborator_")) {
      void qc.invalidateQueries({ queryKey: keys.collab });
    }
  });
}

export function displayName(c: { name?: string | null; userId: number }): string {
  return c.name || `User ${c.userId}`;
}
