// Where a notification leads: what it is about, or the best page there is for it. Shared by the
// header bell and the /notifications page, so a click goes to the same place from both.
import type { Portal } from "../auth/session";

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

export function notificationTarget(kind: string, data: Record<string, unknown>, portal: Portal): string | null {
  const pitchId = num(data.pitchId);
  const pitch = pitchId !== null ? `/pitches/${pitchId}` : null;
  switch (kind) {
    case "nda_request":
      return portal === "creator" ? "/creator/ndas" : pitch;
    case "nda_approved":
    case "nda_rejected":
    case "nda_expired":
      return pitch ?? (portal === "creator" ? "/creator/ndas" : `/${portal}/ndas`);
    case "new_message": {
      // The conversation with the sender, where the message is.
      const sender = num(data.senderId);
      return sender !== null ? `/messages/${sender}` : "/messages";
    }
    case "new_investment":
      return pitch ?? `/${portal}`;
    case "investment_completed":
    case "investment_failed":
      // The investor's holdings; the creator's pitch.
      return portal === "investor" ? "/investor/portfolio" : (pitch ?? `/${portal}`);
    case "subscription_renewed":
    case "subscription_past_due":
    case "subscription_expired":
      return "/settings/billing";
    case "new_follower": {
      // The follower's public profile.
      const follower = num(data.followerId);
      return follower !== null ? `/users/${follower}` : `/${portal}`;
    }
    case "team_invitation":
    case "team_invitation_accepted":
    case "team_invitation_declined":
    case "team_removed":
      return "/production/team";
    case "collaborator_invite":
    case "collaborator_removed":
      // The invitation (accept / decline) or, once removed, what is left.
      return "/collaborations";
    case "collaborator_accepted":
    case "collaborator_declined":
      // The owner: the pitch's documents, where the collaborators panel is.
      return pitchId !== null ? `/pitches/${pitchId}/documents/synopsis` : "/collaborations";
    default:
      return pitch;
  }
}
