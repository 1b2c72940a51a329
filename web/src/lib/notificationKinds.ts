// Notification kinds as people read them: a short label for the notifications list, a plural one
// and a group for the preferences table. The kinds themselves come from the server (every kind it
// stores is switchable: NotificationKind in protocol/models.py); a kind this table does not know
// yet still shows, under its own name, in "Other".

export interface KindInfo {
  /** One notification, in the list ("NDA approved"). */
  one: string;
  /** The switch in the preferences ("NDAs approved"). */
  many: string;
  group: KindGroup;
}

export type KindGroup = "NDAs and pitches" | "People and messages" | "Money" | "Production teams" | "Other";

export const KIND_GROUPS: readonly KindGroup[] = ["NDAs and pitches", "People and messages", "Money", "Production teams", "Other"];

const KINDS: Record<string, KindInfo> = {
  nda_request: { one: "NDA request", many: "NDA requests", group: "NDAs and pitches" },
  nda_approved: { one: "NDA approved", many: "NDAs approved", group: "NDAs and pitches" },
  nda_rejected: { one: "NDA declined", many: "NDAs declined", group: "NDAs and pitches" },
  nda_expired: { one: "NDA expired", many: "NDAs expired", group: "NDAs and pitches" },
  collaborator_invite: { one: "Invitation to co-edit", many: "Invitations to co-edit a pitch", group: "NDAs and pitches" },
  collaborator_accepted: { one: "Collaborator joined", many: "Collaborators accepting", group: "NDAs and pitches" },
  collaborator_declined: { one: "Invitation declined", many: "Collaborators declining", group: "NDAs and pitches" },
  collaborator_removed: { one: "Removed from a pitch", many: "Removal from a pitch's editors", group: "NDAs and pitches" },
  new_follower: { one: "Follower", many: "New followers", group: "People and messages" },
  new_message: { one: "Message", many: "Messages", group: "People and messages" },
  new_investment: { one: "Investment", many: "Investments in your pitches", group: "Money" },
  investment_completed: { one: "Investment settled", many: "Investments settled", group: "Money" },
  investment_failed: { one: "Investment failed", many: "Investments that did not go through", group: "Money" },
  subscription_renewed: { one: "Subscription renewed", many: "Subscription renewals", group: "Money" },
  subscription_past_due: { one: "Payment due", many: "Failed subscription payments", group: "Money" },
  subscription_expired: { one: "Subscription ended", many: "Subscription ended", group: "Money" },
  team_invitation: { one: "Team invitation", many: "Team invitations", group: "Production teams" },
  team_invitation_accepted: { one: "Team", many: "Invitations accepted", group: "Production teams" },
  team_invitation_declined: { one: "Team", many: "Invitations declined", group: "Production teams" },
  team_removed: { one: "Team", many: "Removal from a team", group: "Production teams" },
};

export function kindInfo(kind: string): KindInfo {
  return KINDS[kind] ?? { one: kind.replace(/_/g, " "), many: kind.replace(/_/g, " "), group: "Other" };
}
