// The investor portal's queries, shared by the dashboard and the portfolio page.
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import { keys } from "../../api/keys";

export const portfolioKey = [...keys.investments, "portfolio"] as const;
export const historyKey = [...keys.investments, "history"] as const;

export function usePortfolio() {
  return useQuery({
    queryKey: portfolioKey,
    queryFn: () => unwrap(api.GET("/api/investments/portfolio")),
  });
}

export function useHistory(limit: number) {
  return useQuery({
    queryKey: [...historyKey, limit],
    queryFn: () => unwrap(api.GET("/api/investments/history", { params: { query: { limit } } })),
  });
}

export function useRecommendations(limit: number) {
  return useQuery({
    queryKey: [...keys.recommendations, limit],
    queryFn: () => unwrap(api.GET("/api/investment/recommendations", { params: { query: { limit } } })),
  });
}

export const STATUS_LABEL = {
  pending: "Pending",
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
  refunded: "Refunded",
} as const;
