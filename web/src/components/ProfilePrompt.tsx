// "Complete your profile": a small, dismissable prompt on the dashboards while the session says the
// profile is incomplete. Dismissing hides it until the page is reloaded (kept in memory only: no
// browser storage).
import { useState } from "react";
import { useSession } from "../auth/session";
import { useProfileCompleteness } from "../pages/account/data";
import { missingInWords } from "../pages/account/parts";
import { Button, ButtonLink, Card } from "../ui";
import s from "../pages/account/account.module.css";

let dismissedThisLoad = false;

export function ProfilePrompt() {
  const session = useSession();
  const [dismissed, setDismissed] = useState(() => dismissedThisLoad);
  const q = useProfileCompleteness(Boolean(session.data) && !dismissed);
  const c = q.data;
  if (dismissed || !c || c.percent >= 100) return null;
  return (
    <Card aria-labelledby="profile-prompt-title" data-testid="profile-prompt">
      <div className={s.prompt}>
        <div>
          <h2 id="profile-prompt-title" className={s.promptTitle}>
            Complete your profile ({c.percent}%)
          </h2>
          <p className={s.promptText}>People decide faster when they know who you are: add your {missingInWords(c.missing)}.</p>
        </div>
        <div className={s.actions}>
          <ButtonLink to="/settings" small>
            Complete profile
          </ButtonLink>
          <Button
            small
            variant="ghost"
            onClick={() => {
              dismissedThisLoad = true;
              setDismissed(true);
            }}
          >
            Not now
          </Button>
        </div>
      </div>
    </Card>
  );
}
