// Query keys, in one place: the live client updates the same keys the pages read.
export const keys = {
  session: ["session"] as const,
  pitches: ["pitches"] as const, // prefix of every pitch list
  pitch: (id: number) => ["pitch", id] as const,
  pitchMedia: (id: number) => ["pitch", id, "media"] as const,
  myPitches: ["pitches", "my"] as const,
  browse: (params: Record<string, string>) => ["pitches", "browse", params] as const,
  trending: ["pitches", "trending"] as const,
  newest: ["pitches", "newest"] as const,
  ndas: ["ndas"] as const, // prefix of every NDA list
  notifications: ["notifications"] as const,
  investments: ["investments"] as const, // portfolio, history
  recommendations: ["recommendations"] as const,
  projects: ["projects"] as const,
  project: (id: number) => ["projects", id] as const,
  projectList: (params: Record<string, string>) => ["projects", "list", params] as const,
  projectExpenses: (id: number, page: number) => ["projects", id, "expenses", page] as const,
  // Under "projects": creating or changing a project changes which pitches it links and its budget.
  investmentOverview: ["projects", "investment-overview"] as const,
  productionAnalytics: ["analytics", "production"] as const,
  budgetAnalytics: (id: number) => ["analytics", "budget", id] as const,
  productionFollowing: (page: number) => ["production", "following", page] as const,
  analytics: ["analytics"] as const,
};
