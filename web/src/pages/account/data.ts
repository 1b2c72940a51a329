// Profiles, preferences and saved pitches: the queries and mutations /settings, /users/:id,
// /investor/saved, the pitch page's Save toggle and the dashboards' profile prompt share.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../../api/client";
import { keys } from "../../api/keys";
import { sessionKey } from "../../auth/session";
import { unwrapPage } from "../shared/paging";

export type Profile = Schemas["ProfileOut"];
export type ProfileUpdate = Schemas["ProfileUpdate"];
export type Preferences = Schemas["PreferencesOut"];
export type PublicUser = Schemas["PublicUserOut"];

export function useMyProfile() {
  return useQuery({ queryKey: keys.profile, queryFn: () => unwrap(api.GET("/api/user/profile")) });
}

/** A saved profile changes the name in the header (the session) and the completeness prompt. */
export function useSaveProfile() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: ProfileUpdate) => unwrap(api.PUT("/api/user/profile", { body })),
    onSuccess: (p) => profileChanged(qc, p),
  });
}

export function profileChanged(qc: ReturnType<typeof useQueryClient>, p: Profile): void {
  qc.setQueryData(keys.profile, p);
  void qc.invalidateQueries({ queryKey: keys.profileCompleteness });
  void qc.invalidateQueries({ queryKey: sessionKey });
}

export function useRemoveAvatar() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/user/avatar")),
    onSuccess: (p) => profileChanged(qc, p),
  });
}

/** The session answer's profile completeness (a small query of its own, under "profile"). */
export function useProfileCompleteness(enabled: boolean) {
  return useQuery({
    queryKey: keys.profileCompleteness,
    queryFn: async () => (await unwrap(api.GET("/api/auth/session"))).profileCompleteness ?? null,
    enabled,
    staleTime: 60_000,
  });
}

export function usePreferences() {
  return useQuery({ queryKey: keys.preferences, queryFn: () => unwrap(api.GET("/api/user/preferences")) });
}

export function useSavePreferences() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Schemas["PreferencesUpdate"]) => unwrap(api.PUT("/api/user/preferences", { body })),
    onSuccess: (p) => {
      qc.setQueryData(keys.preferences, p);
      // Investment preferences change what is recommended.
      void qc.invalidateQueries({ queryKey: keys.recommendations });
    },
  });
}

export const PUBLIC_PAGE_SIZE = 12;

export function usePublicUser(id: number, page: number) {
  return useQuery({
    queryKey: keys.publicUser(id, page),
    queryFn: async () => {
      let total = 0;
      const user = await unwrap(
        api.GET("/api/users/{id}", { params: { path: { id }, query: { page, limit: PUBLIC_PAGE_SIZE } } }).then((r) => {
          total = (r.data?.meta?.pagination as { total?: number } | undefined)?.total ?? 0;
          return r;
        }),
      );
      return { user, total };
    },
    placeholderData: keepPreviousData,
    enabled: Number.isSafeInteger(id) && id > 0,
  });
}

export function useFollow(id: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (follow: boolean) =>
      follow
        ? unwrap(api.POST("/api/follows", { body: { userId: id } }))
        : unwrap(api.DELETE("/api/follows/{userId}", { params: { path: { userId: id } } })),
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: keys.users });
      void qc.invalidateQueries({ queryKey: keys.pitches }); // "from people you follow" lists
      void qc.invalidateQueries({ queryKey: keys.follows }); // /people/following
    },
  });
}

export const SAVED_PAGE_SIZE = 12;

export function useSavedPitches(page: number) {
  return useQuery({
    queryKey: keys.savedPage(page),
    queryFn: () =>
      unwrapPage(api.GET("/api/saved-pitches", { params: { query: { page, limit: SAVED_PAGE_SIZE } } })),
    placeholderData: keepPreviousData,
  });
}

export function usePitchSaved(id: number, enabled: boolean) {
  return useQuery({
    queryKey: keys.pitchSaved(id),
    queryFn: () => unwrap(api.GET("/api/pitches/{id}/save", { params: { path: { id } } })),
    enabled,
  });
}

export function useSaveToggle(id: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (save: boolean) =>
      save
        ? unwrap(api.POST("/api/pitches/{id}/save", { params: { path: { id } }, body: {} }))
        : unwrap(api.DELETE("/api/pitches/{id}/save", { params: { path: { id } } })),
    onSuccess: (r) => {
      qc.setQueryData(keys.pitchSaved(id), r);
      void qc.invalidateQueries({ queryKey: [...keys.saved, "pages"] });
    },
  });
}
