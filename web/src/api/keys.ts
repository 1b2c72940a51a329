// Query keys, in one place: the live client updates the same keys the pages read.
export const keys = {
  session: ["session"] as const,
  config: ["config"] as const, // GET /api/config: what the app needs at start (error reporting)
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
  // Direct messages: the thread list and one conversation per counterpart (both under "messages").
  messages: ["messages"] as const,
  messageThreads: ["messages", "threads"] as const,
  conversation: (userId: number) => ["messages", "conversation", userId] as const,
  // Under keys.notifications / keys.ndas, so the live client's invalidations refresh them.
  notificationPages: (unreadOnly: boolean) => ["notifications", "pages", { unreadOnly }] as const,
  sentNdas: (status: string) => ["ndas", "sent", status] as const,
  signedNdas: ["ndas", "signed"] as const,
  // Money (/settings/billing): everything under "billing", refetched together after a payment.
  billing: ["billing"] as const,
  billingPlans: ["billing", "plans"] as const,
  subscription: ["billing", "subscription"] as const,
  creditBalance: ["billing", "credits", "balance"] as const,
  creditLedger: (page: number) => ["billing", "credits", "ledger", page] as const,
  paymentHistory: (page: number) => ["billing", "payments", page] as const,
  // Under keys.investments, so whatever refreshes investments refreshes the history pages too.
  investmentHistoryPage: (page: number) => ["investments", "history", "pages", page] as const,
  // Production teams, resources and timelines (all under "production").
  team: (companyId: number | null) => ["production", "team", companyId ?? "mine"] as const,
  teamAll: ["production", "team"] as const,
  teamProjects: ["production", "team", "projects"] as const,
  resources: ["production", "resources"] as const,
  resourcesOf: (companyId: number | null) => ["production", "resources", companyId ?? "mine"] as const,
  timeline: (projectId: number) => ["projects", projectId, "timeline"] as const,
  // Profiles (/settings, /users/:id): the own profile and its completeness under "profile", so a
  // saved profile refreshes the dashboards' prompt too.
  profile: ["profile"] as const,
  profileCompleteness: ["profile", "completeness"] as const,
  preferences: ["preferences"] as const,
  publicUser: (id: number, page: number) => ["users", id, page] as const,
  users: ["users"] as const, // prefix: a follow changes counts on every public profile page
  // The signed-in person's followers / following lists (/people/…), all under "follows".
  follows: ["follows"] as const,
  followList: (which: "followers" | "following", page: number) => ["follows", which, page] as const,
  followingLookup: ["follows", "lookup"] as const,
  // Saved pitches (investors): the list pages and each pitch's saved state, all under "saved".
  saved: ["saved"] as const,
  savedPage: (page: number) => ["saved", "pages", page] as const,
  pitchSaved: (id: number) => ["saved", "pitch", id] as const,
  // NDA templates (creators) and signed agreements (both parties). The template a pitch requires
  // sits under keys.pitch(id), so what refreshes the pitch refreshes it; agreements sit under
  // keys.ndas, so the live NDA events refresh them.
  ndaTemplates: ["ndaTemplates"] as const, // prefix: the list and each template
  ndaTemplateList: ["ndaTemplates", "list"] as const,
  ndaTemplate: (id: number) => ["ndaTemplates", id] as const,
  pitchNdaTemplate: (pitchId: number) => ["pitch", pitchId, "nda-template"] as const,
  agreements: ["ndas", "agreements"] as const,
  // Co-editing (/pitches/:id/documents/:doc, /collaborations): everything under "collab", so a
  // collaborator_* notification refetches all of it at once.
  collab: ["collab"] as const,
  collaborations: ["collab", "mine"] as const,
  collaborators: (pitchId: number) => ["collab", "pitch", pitchId, "collaborators"] as const,
  pitchDocuments: (pitchId: number) => ["collab", "pitch", pitchId, "documents"] as const,
  docVersions: (pitchId: number, doc: string) => ["collab", "pitch", pitchId, "versions", doc] as const,
  // Operators (/ops): whether I am one, the first paint of the figures (then live from metrics:ops),
  // and one room's presence, all under "ops".
  ops: ["ops"] as const,
  opsStatus: ["ops", "status"] as const,
  opsOverview: ["ops", "overview"] as const,
  opsRoom: (kind: string, id: number) => ["ops", "room", kind, id] as const,
};
