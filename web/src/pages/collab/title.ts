import { useEffect } from "react";

/** The tab's title while the page is shown ("… · Pitchey"); the previous one comes back after. */
export function useDocumentTitle(title: string | null) {
  useEffect(() => {
    if (!title) return;
    const before = document.title;
    document.title = `${title} · Pitchey`;
    return () => {
      document.title = before;
    };
  }, [title]);
}
