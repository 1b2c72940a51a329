// Who is signed in: one query on GET /api/auth/session. The session cookie is HttpOnly; JS never
// sees the token. Sign in/out update this query and the live client follows it.
import { useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { api, ApiError, unwrap, type Schemas } from "../api/client";

export type User = Schemas["UserOut"];
export type Portal = User["userType"];
export const PORTALS: readonly Portal[] = ["creator", "investor", "production"];
export const PORTAL_LABEL: Record<Portal, string> = {
  creator: "Creator",
  investor: "Investor",
  production: "Production company",
};

export const sessionKey = ["session"] as const;

/** Another person (or nobody) from now on: drop the previous person's queries but keep the session
 * query itself. `qc.clear()` would also remove it, and every mounted `useSession` (the header) would
 * stay subscribed to the removed copy and keep showing the previous person until it re-rendered. */
function switchUser(qc: QueryClient, user: User | null): void {
  qc.setQueryData(sessionKey, user);
  qc.removeQueries({ predicate: (q) => q.queryKey[0] !== sessionKey[0] });
}

export function useSession() {
  return useQuery({
    queryKey: sessionKey,
    queryFn: async (): Promise<User | null> => {
      try {
        return (await unwrap(api.GET("/api/auth/session"))).user;
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) return null;
        throw e;
      }
    },
    staleTime: 60_000,
  });
}

export function useLogin(portal: Portal) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Schemas["LoginBody"]) =>
      unwrap(api.POST("/api/auth/{portal}/login", { params: { path: { portal } }, body })),
    onSuccess: (result) => switchUser(qc, result.user),
  });
}

export function useRegister(portal: Portal) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Schemas["RegisterBody"]) =>
      unwrap(api.POST("/api/auth/{portal}/register", { params: { path: { portal } }, body })),
    onSuccess: (result) => switchUser(qc, result.user),
  });
}

export function useLogout() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api.POST("/api/auth/logout", { body: {} })),
    onSettled: () => switchUser(qc, null),
  });
}
