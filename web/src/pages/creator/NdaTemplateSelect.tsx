// The pitch editor's choice of the NDA template requesters accept (one of the creator's own).
import { Link } from "react-router";
import { Select } from "../../ui";
import { useNdaTemplates } from "./ndaTemplateData";
import s from "./creator.module.css";

export function NdaTemplateSelect({
  value,
  onChange,
  error,
}: {
  value: string;
  onChange: (v: string) => void;
  error?: string;
}) {
  const list = useNdaTemplates();
  const options = [
    { value: "", label: "None: requesters accept no text" },
    ...(list.data ?? []).map((t) => ({ value: String(t.id), label: `${t.title} (version ${t.version})` })),
  ];
  // Still loading (or failed): keep the chosen one selectable, so nothing typed is lost.
  if (value && !options.some((o) => o.value === value)) options.push({ value, label: `Template ${value}` });
  return (
    <>
      <Select label="NDA template" name="ndaTemplateId" value={value} options={options}
        onChange={(e) => onChange(e.target.value)} error={error}
        hint={list.isError ? "Your templates could not be loaded; the current choice is kept." : "Investors read and accept it before they request access."} />
      <p className={s.muted}>
        <Link to="/creator/nda-templates">Write or edit NDA templates</Link>
      </p>
    </>
  );
}
