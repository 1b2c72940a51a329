import { describe, expect, it } from "vitest";
import { notificationTarget } from "./notificationTarget";

describe("notificationTarget", () => {
  it("opens the conversation of a message, whatever pitch it is about", () => {
    expect(notificationTarget("new_message", { messageId: 4, senderId: 7, pitchId: 3 }, "creator")).toBe("/messages/7");
    expect(notificationTarget("new_message", { messageId: 4 }, "investor")).toBe("/messages");
  });

  it("sends a creator to the NDA inbox and a requester to the pitch", () => {
    expect(notificationTarget("nda_request", { pitchId: 3 }, "creator")).toBe("/creator/ndas");
    expect(notificationTarget("nda_approved", { pitchId: 3 }, "investor")).toBe("/pitches/3");
    expect(notificationTarget("nda_rejected", {}, "production")).toBe("/production/ndas");
  });

  it("sends a new follower to their profile", () => {
    expect(notificationTarget("new_follower", { followerId: 2 }, "production")).toBe("/users/2");
  });

  it("sends team invitations and their answers to the team page", () => {
    expect(notificationTarget("team_invitation", { invitationId: 5, companyId: 2 }, "production")).toBe("/production/team");
    expect(notificationTarget("team_removed", { companyId: 2 }, "production")).toBe("/production/team");
  });

  it("sends a collaboration invitation to its answer, and an answer to the pitch's documents", () => {
    expect(notificationTarget("collaborator_invite", { pitchId: 4, role: "editor", invitedBy: 2 }, "investor")).toBe("/collaborations");
    expect(notificationTarget("collaborator_removed", { pitchId: 4 }, "creator")).toBe("/collaborations");
    expect(notificationTarget("collaborator_accepted", { pitchId: 4 }, "creator")).toBe("/pitches/4/documents/synopsis");
    expect(notificationTarget("collaborator_declined", {}, "creator")).toBe("/collaborations");
  });

  it("falls back to the pitch, then the portal's home", () => {
    expect(notificationTarget("new_investment", { pitchId: 9 }, "creator")).toBe("/pitches/9");
    expect(notificationTarget("new_follower", {}, "production")).toBe("/production");
    expect(notificationTarget("something_new", { pitchId: "x" }, "creator")).toBeNull();
  });

  it("leads money and expiry notices to where they can be acted on", () => {
    expect(notificationTarget("nda_expired", { ndaId: 2, pitchId: 5 }, "investor")).toBe("/pitches/5");
    expect(notificationTarget("investment_failed", { pitchId: 5 }, "investor")).toBe("/investor/portfolio");
    expect(notificationTarget("investment_completed", { pitchId: 5 }, "creator")).toBe("/pitches/5");
    expect(notificationTarget("subscription_past_due", { userId: 1 }, "production")).toBe("/settings/billing");
  });
});
