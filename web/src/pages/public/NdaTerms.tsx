// The NDA a pitch requires, as the requester reads it before asking for access: the current
// version of the creator's template (GET /api/pitches/{id}/nda-template), shown as plain text
// (never as HTML), and an "I accept" box. The request then carries the version's hash, so what
// is signed is exactly what was read; if the creator changed the text meanwhile the server says
// so (409) and the page shows the new version to accept again.
import { useQuery } from "@tanstack/react-query";
import { useId } from "react";
import { api, unwrap, type Schemas } from "../../api/client";
import { keys } from "../../api/keys";
import { Checkbox, ErrorState, Loading } from "../../ui";
import s from "./public.module.css";

export type NdaTemplateVersion = Schemas["NdaTemplateVersionOut"];

/** The template version a pitch requires (null: none), for someone who may request an NDA. */
export function usePitchNdaTemplate(pitchId: number, enabled: boolean) {
  return useQuery({
    queryKey: keys.pitchNdaTemplate(pitchId),
    queryFn: async () =>
      (await unwrap(api.GET("/api/pitches/{id}/nda-template", { params: { path: { id: pitchId } } }))).template,
    enabled,
  });
}

function term(months: number): string {
  if (months % 12 === 0) return months === 12 ? "1 year" : `${months / 12} years`;
  return months === 1 ? "1 month" : `${months} months`;
}

export function NdaTerms({
  query,
  accepted,
  onAccept,
}: {
  query: ReturnType<typeof usePitchNdaTemplate>;
  accepted: boolean;
  onAccept: (accepted: boolean) => void;
}) {
  const fid = useId();
  if (query.isPending) return <Loading label="Loading the NDA’s text…" />;
  if (query.isError) return <ErrorState error={query.error} retry={() => void query.refetch()} />;
  const t = query.data;
  if (!t) return null;
  return (
    <div className={s.ndaTerms}>
      <h3 id={`${fid}-title`} className={s.ndaTermsTitle}>
        {t.title}
      </h3>
      <p className={s.ndaTermsMeta}>
        Version {t.version} · term {term(t.termMonths)} from approval · {t.jurisdiction}
      </p>
      <div className={s.ndaText} role="region" aria-labelledby={`${fid}-title`} tabIndex={0} data-testid="nda-text">
        {t.body}
      </div>
      <Checkbox
        key={t.contentHash /* a new version starts unaccepted */}
        label={`I have read and accept this NDA (version ${t.version})`}
        checked={accepted}
        onChange={(e) => onAccept(e.target.checked)}
      />
    </div>
  );
}
