import { useState, type FormEvent } from "react";
import { Link, Navigate, useNavigate, useParams, useSearchParams } from "react-router";
import { ApiError } from "../../api/client";
import { useLogin, useSession, type Portal } from "../../auth/session";
import { Alert, Button, Card, TextField } from "../../ui";
import s from "./AuthForm.module.css";
import { asPortal, safeNext } from "./portalParam";
import { PortalPicker } from "./PortalPicker";

export default function Login() {
  const params = useParams();
  const [search] = useSearchParams();
  const fixed = asPortal(params.portal);
  if (params.portal !== undefined && !fixed) return <Navigate to="/login" replace />;
  return <LoginForm key={fixed ?? "any"} initial={fixed ?? "creator"} next={safeNext(search.get("next"))} />;
}

function LoginForm({ initial, next }: { initial: Portal; next: string | null }) {
  const [portal, setPortal] = useState<Portal>(initial);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const login = useLogin(portal);
  const session = useSession();
  const navigate = useNavigate();
  const err = login.error instanceof ApiError ? login.error : null;
  const fields = err?.fieldErrors() ?? {};

  if (session.data && !login.isPending && !login.isSuccess) {
    return <Navigate to={`/${session.data.userType}`} replace />;
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    login.mutate(
      { email, password },
      { onSuccess: (r) => void navigate(next ?? `/${r.user.userType}`, { replace: true }) },
    );
  }

  return (
    <div className={s.wrap}>
      <Card>
        <h1>Sign in</h1>
        <form onSubmit={submit} noValidate>
          <PortalPicker value={portal} onChange={setPortal} />
          {login.error && !Object.keys(fields).length && <Alert>{login.error.message}</Alert>}
          <TextField label="Email" type="email" name="email" autoComplete="email" required value={email}
            onChange={(e) => setEmail(e.target.value)} error={fields.email} />
          <TextField label="Password" type="password" name="password" autoComplete="current-password" required
            value={password} onChange={(e) => setPassword(e.target.value)} error={fields.password} />
          <Button type="submit" busy={login.isPending}>
            Sign in
          </Button>
        </form>
        <p className={s.foot}>
          New to Pitchey? <Link to={`/${portal}/register`}>Create an account</Link>
        </p>
      </Card>
    </div>
  );
}
