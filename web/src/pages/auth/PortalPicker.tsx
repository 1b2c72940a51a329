import { PORTALS, PORTAL_LABEL, type Portal } from "../../auth/session";
import s from "./AuthForm.module.css";

export function PortalPicker({ value, onChange }: { value: Portal; onChange: (p: Portal) => void }) {
  return (
    <fieldset className={s.portals}>
      <legend>I am a</legend>
      {PORTALS.map((p) => (
        <label key={p} className={s.portal}>
          <input type="radio" name="portal" value={p} checked={value === p} onChange={() => onChange(p)} />
          {PORTAL_LABEL[p]}
        </label>
      ))}
    </fieldset>
  );
}
