// The creator's NDA templates: the list (/creator/nda-templates), writing one (/new) and editing
// one (/:id). Saving a change writes the template's next version; every version stays readable
// below the form, and NDAs already signed keep the version they were signed under. A template's
// text is shown as plain text (never as HTML); the signed document renders its Markdown.
import { useEffect, useId, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { ApiError, errorMessage } from "../../api/client";
import { formatDateTime } from "../../lib/format";
import { Alert, Badge, Button, ButtonLink, Card, Empty, ErrorState, Loading, PageHeader, TextArea, TextField } from "../../ui";
import {
  EMPTY_TEMPLATE,
  formFromTemplate,
  templateBody,
  termLabel,
  useDeleteNdaTemplate,
  useNdaTemplate,
  useNdaTemplates,
  useSaveNdaTemplate,
  validateTemplate,
  type NdaTemplate,
  type NdaTemplateVersion,
  type TemplateForm,
} from "./ndaTemplateData";
import s from "./creator.module.css";

function useTitle(title: string) {
  useEffect(() => {
    const before = document.title;
    document.title = `${title} · Pitchey`;
    return () => {
      document.title = before;
    };
  }, [title]);
}

export default function NdaTemplates() {
  const params = useParams();
  if (params.id === undefined) return <TemplateList />;
  if (params.id === "new") return <TemplateEditor key="new" template={null} />;
  const id = Number(params.id);
  if (!Number.isInteger(id) || id <= 0) return <Alert>There is no NDA template at this address.</Alert>;
  return <TemplateLoader key={id} id={id} />;
}

function TemplateList() {
  useTitle("NDA templates");
  const list = useNdaTemplates();
  return (
    <>
      <PageHeader title="NDA templates">
        <ButtonLink to="/creator/nda-templates/new" small>
          New template
        </ButtonLink>
      </PageHeader>
      <p className={s.muted}>
        Choose a template in a pitch&rsquo;s editor: investors then read and accept its text before they request
        access, and approving their request countersigns it. Signed agreements are under{" "}
        <Link to="/agreements">Agreements</Link>.
      </p>
      {list.isPending ? (
        <Loading label="Loading your NDA templates…" />
      ) : list.isError ? (
        <ErrorState error={list.error} retry={() => void list.refetch()} />
      ) : list.data.length === 0 ? (
        <Empty>
          You have no NDA templates yet. <Link to="/creator/nda-templates/new">Write your first one</Link>.
        </Empty>
      ) : (
        <ul className={s.ndaList} aria-label="Your NDA templates">
          {list.data.map((t) => (
            <TemplateCard key={t.id} template={t} />
          ))}
        </ul>
      )}
    </>
  );
}

function TemplateCard({ template: t }: { template: NdaTemplate }) {
  const headingId = useId();
  return (
    <li>
      <Card aria-labelledby={headingId}>
        <div className={s.ndaHead}>
          <h2 id={headingId}>
            <Link to={`/creator/nda-templates/${t.id}`}>{t.title}</Link>
          </h2>
          <Badge>Version {t.version}</Badge>
        </div>
        <p className={s.muted}>
          {termLabel(t.termMonths)} · {t.jurisdiction} · changed {formatDateTime(t.updatedAt)}
        </p>
        <p className={s.muted}>
          Required by {t.pitchCount === 1 ? "1 pitch" : `${t.pitchCount} pitches`} ·{" "}
          {t.agreementCount === 1 ? "1 agreement" : `${t.agreementCount} agreements`}
        </p>
      </Card>
    </li>
  );
}

function TemplateLoader({ id }: { id: number }) {
  const t = useNdaTemplate(id);
  if (t.isPending) return <Loading label="Loading the template…" />;
  if (t.isError) return <ErrorState error={t.error} retry={() => void t.refetch()} />;
  return <TemplateEditor template={t.data} />;
}

function TemplateEditor({ template }: { template: NdaTemplate | null }) {
  useTitle(template ? `Edit ${template.title}` : "New NDA template");
  const navigate = useNavigate();
  const fid = useId();
  const [form, setForm] = useState<TemplateForm>(() => (template ? formFromTemplate(template) : EMPTY_TEMPLATE));
  const [clientErrors, setClientErrors] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState<string | null>(null);
  const save = useSaveNdaTemplate(template?.id ?? null);
  const serverErrors = save.error instanceof ApiError ? save.error.fieldErrors() : {};
  const errors = { ...serverErrors, ...clientErrors };
  const general = save.error && !Object.keys(serverErrors).length ? save.error : null;
  const dirty = JSON.stringify(form) !== JSON.stringify(template ? formFromTemplate(template) : EMPTY_TEMPLATE);

  function submit(e: FormEvent) {
    e.preventDefault();
    const found = validateTemplate(form);
    setClientErrors(found);
    setSaved(null);
    if (Object.keys(found).length) {
      document.getElementById(`${fid}-${Object.keys(found)[0]}`)?.focus();
      return;
    }
    save.mutate(templateBody(form), {
      onSuccess: (t) => {
        setForm(formFromTemplate(t));
        if (!template) {
          void navigate(`/creator/nda-templates/${t.id}`, { replace: true });
        } else {
          setSaved(t.version === template.version ? "Nothing changed: still version " + t.version + "." : `Saved as version ${t.version}.`);
        }
      },
    });
  }

  const set = (k: keyof TemplateForm) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });

  return (
    <>
      <PageHeader title={template ? template.title : "New NDA template"}>
        <ButtonLink to="/creator/nda-templates" variant="secondary" small>
          Back to templates
        </ButtonLink>
      </PageHeader>
      <div className={s.editor}>
        <Card aria-labelledby={`${fid}-form`}>
          <h2 id={`${fid}-form`} className={s.sectionTitle}>
            {template ? `Version ${template.version}` : "The agreement"}
          </h2>
          {template && (
            <p className={s.muted}>
              Saving a change writes version {template.version + 1}. NDAs already signed keep the version they
              were signed under.
            </p>
          )}
          {general && <Alert>{errorMessage(general)}</Alert>}
          {saved && !dirty && <Alert kind="success">{saved}</Alert>}
          <form onSubmit={submit} noValidate aria-label="NDA template">
            <TextField id={`${fid}-title`} label="Title" required maxLength={200} value={form.title}
              onChange={set("title")} error={errors.title} hint="e.g. Mutual NDA for pitch materials" />
            <TextArea id={`${fid}-body`} label="Text of the agreement (Markdown)" required rows={14} maxLength={50000}
              value={form.body} onChange={set("body")} error={errors.body}
              hint="Markdown: # headings, **bold**, lists. The signed document shows it formatted; HTML is shown as text." />
            <div className={s.formRow}>
              <TextField id={`${fid}-termMonths`} label="Term in months" required inputMode="numeric" autoComplete="off"
                value={form.termMonths} onChange={set("termMonths")} error={errors.termMonths}
                hint="From the countersignature; then the NDA expires" />
              <TextField id={`${fid}-jurisdiction`} label="Jurisdiction" required maxLength={200} value={form.jurisdiction}
                onChange={set("jurisdiction")} error={errors.jurisdiction} hint="e.g. England and Wales" />
            </div>
            <div className={s.actions}>
              <Button type="submit" busy={save.isPending}>
                {template ? "Save new version" : "Create template"}
              </Button>
            </div>
          </form>
        </Card>
        <div className={s.side}>
          {template && <Versions template={template} />}
          {template && <DeleteTemplate template={template} />}
        </div>
      </div>
    </>
  );
}

function Versions({ template }: { template: NdaTemplate }) {
  const headingId = useId();
  const versions: NdaTemplateVersion[] = template.versions ?? [];
  return (
    <Card aria-labelledby={headingId}>
      <h2 id={headingId} className={s.sectionTitle}>
        Versions
      </h2>
      {versions.length === 0 ? (
        <Empty>No versions.</Empty>
      ) : (
        <ol className={s.plainList} aria-labelledby={headingId} reversed>
          {versions.map((v) => (
            <li key={v.id} className={s.versionItem}>
              <details>
                <summary>
                  Version {v.version}
                  {v.version === template.version && " (current)"} · {formatDateTime(v.createdAt)}
                </summary>
                <p className={s.muted}>
                  {v.title} · {termLabel(v.termMonths)} · {v.jurisdiction}
                </p>
                <div className={s.templateText}>{v.body}</div>
                <p className={s.muted}>
                  SHA-256 <code className={s.hash}>{v.contentHash}</code>
                </p>
              </details>
            </li>
          ))}
        </ol>
      )}
    </Card>
  );
}

function DeleteTemplate({ template }: { template: NdaTemplate }) {
  const del = useDeleteNdaTemplate();
  const navigate = useNavigate();
  const [confirming, setConfirming] = useState(false);
  const headingId = useId();
  return (
    <Card aria-labelledby={headingId}>
      <h2 id={headingId} className={s.sectionTitle}>
        Delete
      </h2>
      <p className={s.muted}>
        A template a pitch requires cannot be deleted. One that NDAs were signed under is archived: it leaves this
        list and those agreements keep their text.
      </p>
      {del.isError && <Alert>{errorMessage(del.error)}</Alert>}
      {!confirming ? (
        <Button variant="secondary" onClick={() => setConfirming(true)}>
          Delete template…
        </Button>
      ) : (
        <div className={s.confirm}>
          <p>Delete “{template.title}”?</p>
          <div className={s.actions}>
            <Button
              variant="danger"
              busy={del.isPending}
              onClick={() =>
                del.mutate(template.id, {
                  onSuccess: () => void navigate("/creator/nda-templates", { replace: true }),
                })
              }
            >
              Delete
            </Button>
            <Button variant="secondary" onClick={() => setConfirming(false)}>
              Keep it
            </Button>
          </div>
        </div>
      )}
    </Card>
  );
}
