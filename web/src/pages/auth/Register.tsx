import { useState, type FormEvent } from "react";
import { Link, Navigate, useNavigate, useParams } from "react-router";
import { ApiError } from "../../api/client";
import { useRegister, type Portal } from "../../auth/session";
import { Alert, Button, Card, TextField } from "../../ui";
import s from "./AuthForm.module.css";
import { asPortal } from "./portalParam";
import { PortalPicker } from "./PortalPicker";

export default function Register() {
  const params = useParams();
  const fixed = asPortal(params.portal);
  if (params.portal !== undefined && !fixed) return <Navigate to="/register" replace />;
  return <RegisterForm key={fixed ?? "any"} initial={fixed ?? "creator"} />;
}

function RegisterForm({ initial }: { initial: Portal }) {
  const [portal, setPortal] = useState<Portal>(initial);
  const [form, setForm] = useState({ email: "", password: "", name: "", username: "", companyName: "" });
  const register = useRegister(portal);
  const navigate = useNavigate();
  const err = register.error instanceof ApiError ? register.error : null;
  const fields = err?.fieldErrors() ?? {};
  const set = (k: keyof typeof form) => (e: React.ChangeEvent<HTMLInputElement>) =>
    setForm({ ...form, [k]: e.target.value });

  function submit(e: FormEvent) {
    e.preventDefault();
    register.mutate(
      {
        email: form.email,
        password: form.password,
        name: form.name || null,
        username: form.username || null,
        companyName: form.companyName || null,
        userType: portal,
      },
      { onSuccess: (r) => void navigate(`/${r.user.userType}`, { replace: true }) },
    );
  }

  return (
    <div className={s.wrap}>
      <Card>
        <h1>Create your account</h1>
        <form onSubmit={submit} noValidate>
          <PortalPicker value={portal} onChange={setPortal} />
          {register.error && !Object.keys(fields).length && <Alert>{register.error.message}</Alert>}
          <TextField label="Full name" name="name" autoComplete="name" value={form.name} onChange={set("name")}
            error={fields.name} />
          <TextField label="Username" name="username" autoComplete="username" value={form.username}
            onChange={set("username")} error={fields.username} hint="Letters, digits, dots, dashes and underscores." />
          {portal !== "creator" && (
            <TextField label="Company" name="companyName" autoComplete="organization" value={form.companyName}
              onChange={set("companyName")} error={fields.companyName} />
          )}
          <TextField label="Email" type="email" name="email" autoComplete="email" required value={form.email}
            onChange={set("email")} error={fields.email} />
          <TextField label="Password" type="password" name="password" autoComplete="new-password" required
            minLength={8} value={form.password} onChange={set("password")} error={fields.password}
            hint="At least 8 characters." />
          <Button type="submit" busy={register.isPending}>
            Create account
          </Button>
        </form>
        <p className={s.foot}>
          Already have an account? <Link to={`/${portal}/login`}>Sign in</Link>
        </p>
      </Card>
    </div>
  );
}
