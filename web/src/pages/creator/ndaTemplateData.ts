// NDA templates (a creator's NDA texts, in versions): queries and mutations over the typed client,
// keyed by keys.ts, and the template form's values without React (unit-tested).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../../api/client";
import { keys } from "../../api/keys";

export type NdaTemplate = Schemas["NdaTemplateOut"];
export type NdaTemplateVersion = Schemas["NdaTemplateVersionOut"];

export interface TemplateForm {
  title: string;
  body: string;
  termMonths: string;
  jurisdiction: string;
}

export const EMPTY_TEMPLATE: TemplateForm = { title: "", body: "", termMonths: "24", jurisdiction: "" };

export function formFromTemplate(t: NdaTemplate): TemplateForm {
  return { title: t.title, body: t.body, termMonths: String(t.termMonths), jurisdiction: t.jurisdiction };
}

/** Client-side checks (the server checks again); field name → message. */
export function validateTemplate(f: TemplateForm): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!f.title.trim()) errors.title = "Give the template a title.";
  if (!f.body.trim()) errors.body = "Write the agreement's text.";
  if (!f.jurisdiction.trim()) errors.jurisdiction = "Name the jurisdiction, e.g. England and Wales.";
  const term = f.termMonths.trim();
  if (!/^\d{1,3}$/.test(term) || Number(term) < 1 || Number(term) > 120) {
    errors.termMonths = "Enter a whole number of months from 1 to 120.";
  }
  return errors;
}

export function templateBody(f: TemplateForm): Schemas["NdaTemplateCreate"] {
  return {
    title: f.title.trim(),
    body: f.body.trim(),
    termMonths: Number(f.termMonths.trim()),
    jurisdiction: f.jurisdiction.trim(),
  };
}

export function termLabel(months: number): string {
  if (months % 12 === 0) return months === 12 ? "1 year" : `${months / 12} years`;
  return months === 1 ? "1 month" : `${months} months`;
}

export function useNdaTemplates(enabled = true) {
  return useQuery({
    queryKey: keys.ndaTemplateList,
    queryFn: () => unwrap(api.GET("/api/nda-templates", { params: { query: { page: 1, limit: 100 } } })),
    enabled,
  });
}

export function useNdaTemplate(id: number | null) {
  return useQuery({
    queryKey: keys.ndaTemplate(id ?? 0),
    queryFn: () => unwrap(api.GET("/api/nda-templates/{id}", { params: { path: { id: id ?? 0 } } })),
    enabled: id !== null,
  });
}

export function useSaveNdaTemplate(id: number | null) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Schemas["NdaTemplateCreate"]) =>
      id === null
        ? unwrap(api.POST("/api/nda-templates", { body }))
        : unwrap(api.PUT("/api/nda-templates/{id}", { params: { path: { id } }, body })),
    onSuccess: (t) => {
      qc.setQueryData(keys.ndaTemplate(t.id), t);
      void qc.invalidateQueries({ queryKey: keys.ndaTemplateList });
    },
  });
}

export function useDeleteNdaTemplate() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => unwrap(api.DELETE("/api/nda-templates/{id}", { params: { path: { id } } })),
    onSuccess: (r) => {
      qc.removeQueries({ queryKey: keys.ndaTemplate(r.id) });
      void qc.invalidateQueries({ queryKey: keys.ndaTemplateList });
    },
  });
}
