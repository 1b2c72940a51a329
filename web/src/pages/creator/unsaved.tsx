// Leaving a form with unsaved changes asks first: in-app navigation through the router's blocker,
// closing or reloading the tab through the browser's own prompt.
import { useCallback, useEffect, useRef, type ReactNode } from "react";
import { useBlocker, type BlockerFunction } from "react-router";
import { Alert, Button } from "../../ui";
import s from "./creator.module.css";

export function useUnsavedChangesGuard(dirty: boolean): { prompt: ReactNode; allowNextNavigation: () => void } {
  // Set just before a navigation the page itself makes after a successful save or delete.
  const bypass = useRef(false);
  const shouldBlock = useCallback<BlockerFunction>(
    ({ currentLocation, nextLocation }) =>
      dirty && !bypass.current && currentLocation.pathname !== nextLocation.pathname,
    [dirty],
  );
  const blocker = useBlocker(shouldBlock);

  useEffect(() => {
    if (!dirty) return;
    const onUnload = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener("beforeunload", onUnload);
    return () => window.removeEventListener("beforeunload", onUnload);
  }, [dirty]);

  const prompt =
    blocker.state === "blocked" ? (
      <Alert kind="warn">
        <span>You have unsaved changes in this pitch.</span>
        <span className={s.actions}>
          <Button small variant="secondary" autoFocus onClick={() => blocker.reset()}>
            Stay and keep editing
          </Button>
          <Button small variant="danger" onClick={() => blocker.proceed()}>
            Leave without saving
          </Button>
        </span>
      </Alert>
    ) : null;

  const allowNextNavigation = useCallback(() => {
    bypass.current = true;
  }, []);
  return { prompt, allowNextNavigation };
}
