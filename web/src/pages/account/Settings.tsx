// /settings: the signed-in person's profile (with an avatar uploaded with progress), notification
// settings per kind and channel, and an investor's investment preferences (which recommendations
// use). Every form keeps what was typed when a save fails and shows the server's field errors.
import { useEffect, useRef, useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { useQueryClient } from "@tanstack/react-query";
import { ApiError, errorMessage, type Schemas } from "../../api/client";
import { PORTAL_LABEL, useLogout } from "../../auth/session";
import { Alert, Button, Card, ErrorState, layout, Loading, PageHeader, RequestRef, TextArea, TextField } from "../../ui";
import { AVATAR_TYPES, uploadAvatar, type AvatarUpload } from "./avatar";
import { Avatar, missingInWords } from "./parts";
import { KIND_GROUPS, kindInfo } from "../../lib/notificationKinds";
import {
  profileChanged,
  usePreferences,
  useMyProfile,
  useRemoveAvatar,
  useSavePreferences,
  useSaveProfile,
  type Preferences,
  type Profile,
} from "./data";
import s from "./account.module.css";

export default function Settings() {
  const profile = useMyProfile();
  useEffect(() => {
    document.title = "Settings · Pitchey";
  }, []);
  return (
    <div className={s.page}>
      <PageHeader title="Settings">
        <Link to="/settings/billing">Billing and credits</Link>
      </PageHeader>
      {profile.isPending ? (
        <Loading label="Loading your profile…" />
      ) : profile.isError ? (
        <ErrorState error={profile.error} retry={() => void profile.refetch()} />
      ) : (
        <>
          <Card aria-labelledby="profile-title">
            <h2 id="profile-title">Profile</h2>
            <p className={s.muted}>
              {PORTAL_LABEL[profile.data.userType]} account · {profile.data.email} (never shown to others) ·{" "}
              <Link to={`/users/${profile.data.id}`}>See your public profile</Link>
            </p>
            <p className={s.muted} data-testid="completeness">
              Your profile is {profile.data.completeness.percent}% complete
              {profile.data.completeness.missing.length > 0 &&
                `: add your ${missingInWords(profile.data.completeness.missing)}`}
              .
            </p>
            <AvatarSection profile={profile.data} />
            <ProfileForm profile={profile.data} />
          </Card>
          <PreferencesSection investor={profile.data.userType === "investor"} />
          <SignOut />
        </>
      )}
    </div>
  );
}

function AvatarSection({ profile }: { profile: Profile }) {
  const qc = useQueryClient();
  const remove = useRemoveAvatar();
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const upload = useRef<AvatarUpload | null>(null);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => () => upload.current?.abort(), []);

  const start = (file: File) => {
    setError(null);
    setDone(false);
    setProgress(0);
    const u = uploadAvatar(file, setProgress);
    upload.current = u;
    u.promise
      .then((p) => {
        profileChanged(qc, p);
        setDone(true);
      })
      .catch((e: unknown) => {
        if (!(e instanceof ApiError && e.code === "ABORTED")) setError(e);
      })
      .finally(() => {
        setProgress(null);
        upload.current = null;
        if (input.current) input.current.value = "";
      });
  };

  return (
    <div className={s.avatarRow}>
      <Avatar url={profile.avatarUrl} person={profile} />
      <div className={s.avatarControls}>
        <label className={s.fileLabel} htmlFor="avatar-file">
          {profile.avatarUrl ? "Replace your avatar" : "Upload an avatar"}
        </label>
        <input
          id="avatar-file"
          ref={input}
          type="file"
          accept={AVATAR_TYPES}
          aria-describedby="avatar-hint"
          disabled={progress !== null}
          onChange={(e) => {
            const file = e.currentTarget.files?.[0];
            if (file) start(file);
          }}
        />
        <span id="avatar-hint" className={s.muted}>
          A JPEG, PNG or WebP image. Everyone can see it.
        </span>
        {progress !== null && (
          <div className={s.progress}>
            <progress max={1} value={progress} aria-label="Avatar upload progress" />
            <span role="status">{Math.round(progress * 100)}%</span>
            <Button small variant="secondary" onClick={() => upload.current?.abort()}>
              Cancel upload
            </Button>
          </div>
        )}
        {done && <Alert kind="success">Avatar updated.</Alert>}
        {error !== null && (
          <Alert>
            {errorMessage(error)}
            <RequestRef error={error} />
          </Alert>
        )}
        {profile.avatarUrl && progress === null && (
          <div>
            <Button small variant="secondary" busy={remove.isPending} onClick={() => remove.mutate()}>
              Remove avatar
            </Button>
            {remove.isError && <Alert>{errorMessage(remove.error)}</Alert>}
          </div>
        )}
      </div>
    </div>
  );
}

type ProfileFields = Record<"firstName" | "lastName" | "username" | "company" | "location" | "website" | "bio", string>;

function fieldsOf(p: Profile): ProfileFields {
  return {
    firstName: p.firstName ?? "",
    lastName: p.lastName ?? "",
    username: p.username ?? "",
    company: p.company ?? "",
    location: p.location ?? "",
    website: p.website ?? "",
    bio: p.bio ?? "",
  };
}

function ProfileForm({ profile }: { profile: Profile }) {
  const save = useSaveProfile();
  const [values, setValues] = useState<ProfileFields>(() => fieldsOf(profile));
  const err = save.error instanceof ApiError ? save.error : null;
  const fieldErrors: Record<string, string> = err?.fieldErrors() ?? {};
  if (err?.code === "USERNAME_EXISTS") fieldErrors.username = "This username is taken: try another.";
  const form = useRef<HTMLFormElement>(null);

  // After the errors render, focus the first invalid field so a keyboard user lands on it.
  useEffect(() => {
    if (save.isError) form.current?.querySelector<HTMLElement>("[aria-invalid='true']")?.focus();
  }, [save.isError, save.error]);

  const set = (name: keyof ProfileFields) => (e: { currentTarget: { value: string } }) => {
    const value = e.currentTarget.value;
    setValues((v) => ({ ...v, [name]: value }));
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const blank = (v: string) => (v.trim() === "" ? null : v.trim());
    save.mutate({
      firstName: blank(values.firstName),
      lastName: blank(values.lastName),
      username: blank(values.username),
      company: blank(values.company),
      location: blank(values.location),
      website: blank(values.website),
      bio: values.bio.trim() === "" ? null : values.bio,
    });
  };

  return (
    <form ref={form} onSubmit={submit} noValidate aria-label="Profile">
      <div className={s.twoCol}>
        <TextField label="First name" name="firstName" autoComplete="given-name" maxLength={100} value={values.firstName} onChange={set("firstName")} error={fieldErrors.firstName} />
        <TextField label="Last name" name="lastName" autoComplete="family-name" maxLength={100} value={values.lastName} onChange={set("lastName")} error={fieldErrors.lastName} />
        <TextField label="Username" name="username" autoComplete="username" maxLength={50} value={values.username} onChange={set("username")} error={fieldErrors.username} hint="Letters, digits, dots, dashes and underscores." />
        <TextField label="Company" name="company" autoComplete="organization" maxLength={200} value={values.company} onChange={set("company")} error={fieldErrors.company} />
        <TextField label="Location" name="location" maxLength={200} value={values.location} onChange={set("location")} error={fieldErrors.location} />
        <TextField label="Website" name="website" type="url" inputMode="url" autoComplete="url" placeholder="https://…" maxLength={500} value={values.website} onChange={set("website")} error={fieldErrors.website} />
      </div>
      <TextArea label="Bio" name="bio" maxLength={2000} value={values.bio} onChange={set("bio")} error={fieldErrors.bio} hint="Up to 2,000 characters. Shown on your public profile." />
      {save.isError && !Object.keys(fieldErrors).length && (
        <Alert>
          {errorMessage(save.error)}
          <RequestRef error={save.error} />
        </Alert>
      )}
      {save.isSuccess && <Alert kind="success">Profile saved.</Alert>}
      <div className={s.actions}>
        <Button type="submit" busy={save.isPending}>
          Save profile
        </Button>
      </div>
    </form>
  );
}

// -- preferences -------------------------------------------------------------------------------


function PreferencesSection({ investor }: { investor: boolean }) {
  const prefs = usePreferences();
  if (prefs.isPending) return <Loading label="Loading your preferences…" />;
  if (prefs.isError) return <ErrorState error={prefs.error} retry={() => void prefs.refetch()} />;
  return <PreferencesForm prefs={prefs.data} investor={investor} />;
}

type Channels = Record<string, Schemas["ChannelsOut"]>;

function PreferencesForm({ prefs, investor }: { prefs: Preferences; investor: boolean }) {
  const save = useSavePreferences();
  const [channels, setChannels] = useState<Channels>(() => ({ ...prefs.notifications }));
  const inv = prefs.investment;
  const [genres, setGenres] = useState(inv?.genres.join(", ") ?? "");
  const [formats, setFormats] = useState(inv?.formats.join(", ") ?? "");
  const [budgetMin, setBudgetMin] = useState(inv?.budgetMin ?? "");
  const [budgetMax, setBudgetMax] = useState(inv?.budgetMax ?? "");
  const err = save.error instanceof ApiError ? save.error : null;
  const fe = err?.fieldErrors() ?? {};
  const kinds = Object.keys(channels);

  const toggle = (kind: string, channel: "live" | "emailDigest", on: boolean) =>
    setChannels((c) => {
      const current = c[kind] ?? { live: true, emailDigest: false };
      return { ...c, [kind]: { ...current, [channel]: on } };
    });

  const list = (v: string) =>
    v
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate({
      notifications: Object.fromEntries(kinds.map((k) => [k, { live: channels[k]?.live ?? true, emailDigest: channels[k]?.emailDigest ?? false }])),
      investment: investor
        ? {
            genres: list(genres),
            formats: list(formats),
            budgetMin: budgetMin.trim() === "" ? null : budgetMin.trim(),
            budgetMax: budgetMax.trim() === "" ? null : budgetMax.trim(),
          }
        : null,
    });
  };

  return (
    <form onSubmit={submit} noValidate aria-label="Preferences" className={s.stack}>
      <Card aria-labelledby="notif-title">
        <h2 id="notif-title">Notifications</h2>
        <p className={s.muted}>
          Live notifications arrive while Pitchey is open. Everything is still kept in your notifications list. The
          email digest gathers the kinds you tick into one email a day, with what you have not read yet.
        </p>
        <div className={layout.tableWrap}>
          <table className={s.prefs}>
            <caption className="visually-hidden">Which notifications reach you, per channel</caption>
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th scope="col">Live</th>
                <th scope="col">Email digest</th>
              </tr>
            </thead>
            {KIND_GROUPS.map((group) => {
              const rows = kinds.filter((k) => kindInfo(k).group === group);
              if (rows.length === 0) return null;
              return (
                <tbody key={group}>
                  <tr>
                    <th scope="colgroup" colSpan={3} className={s.prefsGroup}>
                      {group}
                    </th>
                  </tr>
                  {rows.map((k) => {
                    const label = kindInfo(k).many;
                    return (
                      <tr key={k}>
                        <th scope="row">{label}</th>
                        <td>
                          <input
                            type="checkbox"
                            aria-label={`${label}: live`}
                            checked={channels[k]?.live ?? true}
                            onChange={(e) => toggle(k, "live", e.currentTarget.checked)}
                          />
                        </td>
                        <td>
                          <input
                            type="checkbox"
                            aria-label={`${label}: email digest`}
                            checked={channels[k]?.emailDigest ?? false}
                            onChange={(e) => toggle(k, "emailDigest", e.currentTarget.checked)}
                          />
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              );
            })}
          </table>
        </div>
      </Card>
      {investor && (
        <Card aria-labelledby="invest-title">
          <h2 id="invest-title">What you invest in</h2>
          <p className={s.muted}>Your recommendations favour these, and say so.</p>
          <div className={s.twoCol}>
            <TextField label="Genres" name="genres" value={genres} onChange={(e) => setGenres(e.currentTarget.value)} hint="Separated by commas, e.g. Drama, Thriller" error={fe.genres ?? fe["0"]} />
            <TextField label="Formats" name="formats" value={formats} onChange={(e) => setFormats(e.currentTarget.value)} hint="Separated by commas, e.g. Feature, Series" error={fe.formats} />
            <TextField label="Budget from (USD)" name="budgetMin" inputMode="decimal" value={budgetMin} onChange={(e) => setBudgetMin(e.currentTarget.value)} error={fe.budgetMin} />
            <TextField label="Budget up to (USD)" name="budgetMax" inputMode="decimal" value={budgetMax} onChange={(e) => setBudgetMax(e.currentTarget.value)} error={fe.budgetMax} />
          </div>
        </Card>
      )}
      {save.isError && (
        <Alert>
          {errorMessage(save.error)}
          <RequestRef error={save.error} />
        </Alert>
      )}
      {save.isSuccess && <Alert kind="success">Preferences saved.</Alert>}
      <div className={s.actions}>
        <Button type="submit" busy={save.isPending}>
          Save preferences
        </Button>
      </div>
    </form>
  );
}

function SignOut() {
  const logout = useLogout();
  const navigate = useNavigate();
  return (
    <Card aria-labelledby="signout-title">
      <h2 id="signout-title">Session</h2>
      <p className={s.muted}>Signing out here signs this browser out; other devices stay signed in.</p>
      <Button
        variant="secondary"
        busy={logout.isPending}
        onClick={() => {
          // Leave the signed-in page first, as the header's button does.
          void navigate("/");
          logout.mutate();
        }}
      >
        Sign out of Pitchey
      </Button>
    </Card>
  );
}
