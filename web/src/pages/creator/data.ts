// The creator portal's server state: queries and mutations over the typed client, keyed by keys.ts
// so that the live client (which patches and invalidates the same keys) keeps them current.
import { useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../../api/client";
import { keys } from "../../api/keys";

export type Pitch = Schemas["CatalogPitchOut"];
export type PitchStatus = Pitch["status"];
export type Visibility = Pitch["visibility"];
export type Media = Schemas["MediaOut"];
export type NdaItem = Schemas["NdaListItem"];
export type NdaStatus = NdaItem["status"];
export type Range = Schemas["DashboardOut"]["range"];

export const STATUS_LABEL: Record<PitchStatus, string> = { draft: "Draft", published: "Published", archived: "Archived" };
export const STATUS_TONE: Record<PitchStatus, "warn" | "success" | undefined> = {
  draft: "warn",
  published: "success",
  archived: undefined,
};

export const RANGES: readonly { value: Range; label: string }[] = [
  { value: "7d", label: "Last 7 days" },
  { value: "30d", label: "Last 30 days" },
  { value: "90d", label: "Last 90 days" },
];

export function asRange(v: string | null): Range {
  return v === "7d" || v === "90d" ? v : "30d";
}

export interface Pagination {
  page: number;
  limit: number;
  total: number;
  hasMore: boolean;
}

export interface PageOf<T> {
  items: T[];
  pagination: Pagination | null;
}

type Enveloped<T> = Promise<{ data?: { data: T; meta?: Record<string, unknown> }; error?: unknown; response: Response }>;

/** Like `unwrap`, but keeps `meta.pagination` for paginated lists. */
async function unwrapPage<T>(call: Enveloped<T[]>): Promise<PageOf<T>> {
  const items = await unwrap(call);
  const meta = (await call).data?.meta;
  const p = meta?.pagination as Pagination | undefined;
  return { items, pagination: p ?? null };
}

// --- pitches -------------------------------------------------------------------------------------

export const MY_PITCHES_LIMIT = 50;

export function myPitchesKey(status: PitchStatus | "all", page: number) {
  return [...keys.myPitches, { status, page }] as const;
}

export function useMyPitches(status: PitchStatus | "all", page: number) {
  return useQuery({
    queryKey: myPitchesKey(status, page),
    queryFn: () =>
      unwrapPage(
        api.GET("/api/pitches/my", {
          params: { query: { page, limit: MY_PITCHES_LIMIT, ...(status === "all" ? {} : { status }) } },
        }),
      ),
  });
}

export function usePitch(id: number | null) {
  return useQuery({
    queryKey: keys.pitch(id ?? 0),
    queryFn: () => unwrap(api.GET("/api/pitches/{id}", { params: { path: { id: id ?? 0 } } })),
    enabled: id !== null,
  });
}

/** After a write: the pitch's own cache entry gets the answer, every list is refetched. */
function pitchChanged(qc: QueryClient, pitch: Pitch): void {
  qc.setQueryData(keys.pitch(pitch.id), (old: Pitch | undefined) =>
    // The write answer carries no media list; keep the one the detail had.
    old ? { ...pitch, media: pitch.media ?? old.media } : pitch,
  );
  void qc.invalidateQueries({ queryKey: keys.pitches });
  void qc.invalidateQueries({ queryKey: keys.analytics });
}

export function useCreatePitch() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Schemas["PitchCreate"]) => unwrap(api.POST("/api/pitches", { body })),
    onSuccess: (pitch) => pitchChanged(qc, pitch),
  });
}

export function useUpdatePitch(id: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Partial<Schemas["PitchUpdate"]>) =>
      unwrap(api.PUT("/api/pitches/{id}", { params: { path: { id } }, body: body as Schemas["PitchUpdate"] })),
    onSuccess: (pitch) => pitchChanged(qc, pitch),
  });
}

export function useDeletePitch(id: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/pitches/{id}", { params: { path: { id } } })),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: keys.pitches });
      void qc.invalidateQueries({ queryKey: keys.analytics });
    },
  });
}

// --- media ---------------------------------------------------------------------------------------

// A fresh upload's thumbnails or preview are rendered by a background job: look again every few
// seconds while one made in the last two minutes has none (an unrenderable file never will).
function awaitingDerivatives(m: Media): boolean {
  const fresh = Date.now() - new Date(m.createdAt).getTime() < 120_000;
  return fresh && (m.kind === "poster" ? m.width == null : !m.previewUrl);
}

export function usePitchMedia(id: number) {
  return useQuery({
    queryKey: keys.pitchMedia(id),
    queryFn: () =>
      unwrap(api.GET("/api/pitches/{id}/media", { params: { path: { id }, query: { limit: 100 } } })),
    refetchInterval: (q) => (q.state.data?.some(awaitingDerivatives) ? 3000 : false),
  });
}

export function useDeleteMedia(pitchId: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (mediaId: number) =>
      unwrap(api.DELETE("/api/pitches/{id}/media/{mediaId}", { params: { path: { id: pitchId, mediaId } } })),
    onSuccess: (_r, mediaId) => {
      qc.setQueryData<Media[]>(keys.pitchMedia(pitchId), (old) => old?.filter((m) => m.id !== mediaId));
      void qc.invalidateQueries({ queryKey: keys.pitchMedia(pitchId) });
    },
  });
}

/** Mark one item NDA-only or public (PATCH …/media/{mediaId}); the list shows the answer. */
export function useSetMediaProtected(pitchId: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ mediaId, protected: value }: { mediaId: number; protected: boolean }) =>
      unwrap(
        api.PATCH("/api/pitches/{id}/media/{mediaId}", {
          params: { path: { id: pitchId, mediaId } },
          body: { protected: value },
        }),
      ),
    onSuccess: (item) => {
      qc.setQueryData<Media[]>(keys.pitchMedia(pitchId), (old) => old?.map((m) => (m.id === item.id ? item : m)));
      // The pitch page's media list and the cards' posters follow the change.
      void qc.invalidateQueries({ queryKey: keys.pitch(pitchId) });
      void qc.invalidateQueries({ queryKey: keys.pitches });
    },
  });
}

// --- NDAs ----------------------------------------------------------------------------------------

export type NdaFilter = NdaStatus | "all";

export function incomingNdasKey(status: NdaFilter) {
  return [...keys.ndas, "incoming", status] as const;
}

export function useIncomingNdas(status: NdaFilter, limit = 100) {
  return useQuery({
    queryKey: [...incomingNdasKey(status), limit],
    queryFn: () =>
      unwrapPage(api.GET("/api/ndas/incoming-requests", { params: { query: { status, limit } } })),
  });
}

export function useDecideNda() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, decision, reason }: { id: number; decision: "approve" | "reject"; reason?: string }) =>
      decision === "approve"
        ? unwrap(api.POST("/api/ndas/{id}/approve", { params: { path: { id } }, body: { reason: null } }))
        : unwrap(
            api.POST("/api/ndas/{id}/reject", { params: { path: { id } }, body: { reason: reason?.trim() || null } }),
          ),
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: keys.ndas });
      void qc.invalidateQueries({ queryKey: keys.notifications });
    },
  });
}

// --- analytics -----------------------------------------------------------------------------------

export function useDashboard(range: Range) {
  return useQuery({
    queryKey: [...keys.analytics, "dashboard", range],
    queryFn: () => unwrap(api.GET("/api/analytics/dashboard", { params: { query: { range } } })),
  });
}

export function pitchAnalyticsQuery(id: number, range: Range) {
  return {
    queryKey: [...keys.analytics, "pitch", id, range] as const,
    queryFn: () =>
      unwrap(api.GET("/api/analytics/pitch/{id}", { params: { path: { id }, query: { range } } })),
  };
}

/** A count that may arrive as "12" or "12.00" (the dashboard's all-time sums) as an integer. */
export function asCount(v: number | string | undefined | null): number {
  if (typeof v === "number") return v;
  if (!v) return 0;
  const n = Number.parseInt(v, 10);
  return Number.isFinite(n) ? n : 0;
}

export function personName(u: Schemas["UserSummary"] | null | undefined): string {
  if (!u) return "Someone";
  return u.name || u.companyName || u.username || `User ${u.id}`;
}
