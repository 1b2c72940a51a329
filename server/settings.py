"""One typed settings object, read from the environment and validated before anything starts.

A bad value stops the server with one line naming the variable, so an operator never has to read a
traceback to learn that `PITCHEY_PORT=eighty` is wrong.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from limits import parse_many
from pydantic import (
    AliasChoices,
    DirectoryPath,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "pitchey"


def _env(name: str, *more: str) -> AliasChoices:
    return AliasChoices(name, *more)


class SettingsError(Exception):
    """A configuration value is unusable; the message is one line naming the variable."""


class Settings(BaseSettings):
    """Everything the server reads from its environment."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    host: str = Field("127.0.0.1", validation_alias=_env("PITCHEY_HOST"))
    port: int = Field(8080, ge=0, le=65535, validation_alias=_env("PITCHEY_PORT"))
    data_dir: Path = Field(default_factory=_default_data_dir, validation_alias=_env("PITCHEY_DATA_DIR"))
    # A web app build to serve instead of the package's server/webdist (the browser tests serve a
    # fresh `vite build --outDir` of web/ this way, without touching the committed copy).
    web_dir: DirectoryPath | None = Field(None, validation_alias=_env("PITCHEY_WEB_DIR"))
    database_url: str | None = Field(None, repr=False, validation_alias=_env("DATABASE_URL"))
    redis_url: str | None = Field(None, repr=False, validation_alias=_env("REDIS_URL"))
    db_pool_min: int = Field(2, ge=1, le=200, validation_alias=_env("PITCHEY_DB_POOL_MIN"))
    db_pool_max: int = Field(10, ge=1, le=500, validation_alias=_env("PITCHEY_DB_POOL_MAX"))
    db_timeout: float = Field(5.0, gt=0, le=120, validation_alias=_env("PITCHEY_DB_TIMEOUT"))
    jwt_secret: SecretStr | None = Field(None, min_length=32, validation_alias=_env("JWT_SECRET"))
    token_ttl: int = Field(
        7 * 24 * 3600, ge=60, le=90 * 24 * 3600, validation_alias=_env("PITCHEY_TOKEN_TTL")
    )
    cookie_name: str = Field(
        "pitchey_session", pattern=r"^[A-Za-z0-9_\-]{1,64}$", validation_alias=_env("PITCHEY_COOKIE_NAME")
    )
    cookie_secure: Literal["auto", "always", "never"] = Field(
        "auto", validation_alias=_env("PITCHEY_COOKIE_SECURE")
    )
    trust_proxy: bool = Field(False, validation_alias=_env("PITCHEY_TRUST_PROXY"))
    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        (), validation_alias=_env("PITCHEY_CORS_ORIGINS")
    )
    max_body_bytes: int = Field(1024 * 1024, ge=1024, validation_alias=_env("PITCHEY_MAX_BODY_BYTES"))
    login_failure_limit: str = Field("10/15minutes", validation_alias=_env("PITCHEY_LOGIN_FAILURE_LIMIT"))
    auth_ip_limit: str = Field("120/minute", validation_alias=_env("PITCHEY_AUTH_IP_LIMIT"))
    write_user_limit: str = Field("300/minute", validation_alias=_env("PITCHEY_WRITE_USER_LIMIT"))
    write_ip_limit: str = Field("1200/minute", validation_alias=_env("PITCHEY_WRITE_IP_LIMIT"))
    argon2_profile: Literal["rfc9106-low-memory", "rfc9106-high-memory", "cheapest"] = Field(
        "rfc9106-low-memory", validation_alias=_env("PITCHEY_ARGON2_PROFILE")
    )
    log_format: Literal["text", "json"] = Field("text", validation_alias=_env("PITCHEY_LOG_FORMAT"))
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", validation_alias=_env("PITCHEY_LOG_LEVEL")
    )
    ws_heartbeat: float = Field(10.0, gt=0, le=300, validation_alias=_env("PITCHEY_WS_HEARTBEAT"))
    ws_send_buffer: int = Field(1024 * 1024, ge=16 * 1024, validation_alias=_env("PITCHEY_WS_SEND_BUFFER"))
    ws_rate: float = Field(20.0, gt=0, validation_alias=_env("PITCHEY_WS_RATE"))
    ws_burst: int = Field(60, ge=1, validation_alias=_env("PITCHEY_WS_BURST"))
    ws_max_subscriptions: int = Field(200, ge=1, validation_alias=_env("PITCHEY_WS_MAX_SUBSCRIPTIONS"))
    ws_ticket_ttl: float = Field(60.0, gt=0, le=600, validation_alias=_env("PITCHEY_WS_TICKET_TTL"))
    room_idle_timeout: float = Field(60.0, gt=0, validation_alias=_env("PITCHEY_ROOM_IDLE_TIMEOUT"))
    # added: live co-editing (/ws/docs/..., rooms/docs.py): a document's size cap, updates per
    # second per connection, and how many updates the log holds before it is compacted.
    doc_max_bytes: int = Field(8 * 1024**2, ge=1024, validation_alias=_env("PITCHEY_DOC_MAX_BYTES"))
    doc_update_rate: float = Field(50.0, gt=0, validation_alias=_env("PITCHEY_DOC_UPDATE_RATE"))
    doc_update_burst: int = Field(200, ge=1, validation_alias=_env("PITCHEY_DOC_UPDATE_BURST"))
    doc_compact_every: int = Field(100, ge=1, validation_alias=_env("PITCHEY_DOC_COMPACT_EVERY"))
    # Most posts a pitch room stores per commit behind its output gate (1 turns coalescing off:
    # the roomrate bench's un-coalesced baseline of the same build).
    room_post_batch: int = Field(256, ge=1, le=10_000, validation_alias=_env("PITCHEY_ROOM_POST_BATCH"))
    room_history_size: int = Field(1000, ge=0, validation_alias=_env("PITCHEY_ROOM_HISTORY_SIZE"))
    room_history_seconds: float = Field(600.0, ge=0, validation_alias=_env("PITCHEY_ROOM_HISTORY_SECONDS"))
    metrics_token: SecretStr | None = Field(None, validation_alias=_env("PITCHEY_METRICS_TOKEN"))
    shutdown_timeout: float = Field(10.0, gt=0, le=300, validation_alias=_env("PITCHEY_SHUTDOWN_TIMEOUT"))
    # Error reporting to Sentry (server/observability.py): off while SENTRY_DSN is unset. The
    # browser's DSN is handed to the web app by GET /api/config (SENTRY_WEB_DSN, else SENTRY_DSN).
    sentry_dsn: str | None = Field(None, repr=False, validation_alias=_env("SENTRY_DSN"))
    sentry_web_dsn: str | None = Field(None, repr=False, validation_alias=_env("SENTRY_WEB_DSN"))
    sentry_environment: str = Field(
        "production", pattern=r"^[^\s/]{1,64}$", validation_alias=_env("SENTRY_ENVIRONMENT")
    )
    sentry_traces_sample_rate: float = Field(
        0.0, ge=0, le=1, validation_alias=_env("SENTRY_TRACES_SAMPLE_RATE")
    )
    # added: media uploads (server/routes/media.py) and where they are stored (server/blobstore.py)
    media_max_poster: int = Field(10 * 1024**2, ge=1, validation_alias=_env("PITCHEY_MEDIA_MAX_POSTER"))
    media_max_deck: int = Field(50 * 1024**2, ge=1, validation_alias=_env("PITCHEY_MEDIA_MAX_DECK"))
    media_max_video: int = Field(2 * 1024**3, ge=1, validation_alias=_env("PITCHEY_MEDIA_MAX_VIDEO"))
    media_url_ttl: int = Field(60, ge=1, le=7 * 24 * 3600, validation_alias=_env("PITCHEY_MEDIA_URL_TTL"))
    # Background jobs (server/jobs.py): a worker runs inside `pitchey serve` unless switched off
    # (then `pitchey worker` processes run them); its heartbeat, when a silent worker's jobs are
    # taken back, and the fallback poll when no NOTIFY arrives.
    job_worker: bool = Field(True, validation_alias=_env("PITCHEY_JOB_WORKER"))
    job_concurrency: int = Field(4, ge=1, le=100, validation_alias=_env("PITCHEY_JOB_CONCURRENCY"))
    job_heartbeat: float = Field(10.0, gt=0, le=600, validation_alias=_env("PITCHEY_JOB_HEARTBEAT"))
    job_stalled_after: float = Field(30.0, gt=0, le=3600, validation_alias=_env("PITCHEY_JOB_STALLED_AFTER"))
    job_poll: float = Field(5.0, gt=0, le=600, validation_alias=_env("PITCHEY_JOB_POLL"))
    # A payment processor over HTTP (server/payments.py HttpPaymentProvider); unset: the
    # in-memory test mode. Renewals: how long after a declined renewal it is tried again, and
    # how many declines in a row send the account back to the free plan.
    payments_url: str | None = Field(None, repr=False, validation_alias=_env("PITCHEY_PAYMENTS_URL"))
    renewal_retry_after: float = Field(
        86400.0, gt=0, le=30 * 86400, validation_alias=_env("PITCHEY_RENEWAL_RETRY_AFTER")
    )
    renewal_max_declines: int = Field(3, ge=1, le=10, validation_alias=_env("PITCHEY_RENEWAL_MAX_DECLINES"))
    # Email (server/mail.py): the daily digest goes through this relay; unset, no email at all.
    smtp_url: str | None = Field(None, repr=False, validation_alias=_env("SMTP_URL"))
    mail_from: str = Field(
        "Pitchey <no-reply@pitchey.localhost>", min_length=3, validation_alias=_env("PITCHEY_MAIL_FROM")
    )
    public_url: str | None = Field(None, validation_alias=_env("PITCHEY_PUBLIC_URL"))
    # Scheduled backups (server/backup.py): off unless a directory is given.
    backup_dir: Path | None = Field(None, validation_alias=_env("PITCHEY_BACKUP_DIR"))
    backup_keep: int = Field(7, ge=1, le=10_000, validation_alias=_env("PITCHEY_BACKUP_KEEP"))
    # Whole hours: the hourly `backups.scheduled` job claims each period once.
    backup_interval: int = Field(
        24 * 3600,
        ge=3600,
        le=31 * 24 * 3600,
        multiple_of=3600,
        validation_alias=_env("PITCHEY_BACKUP_INTERVAL"),
    )
    s3_bucket: str | None = Field(None, min_length=3, max_length=63, validation_alias=_env("S3_BUCKET"))
    s3_access_key_id: SecretStr | None = Field(None, validation_alias=_env("S3_ACCESS_KEY_ID"))
    s3_secret_access_key: SecretStr | None = Field(None, validation_alias=_env("S3_SECRET_ACCESS_KEY"))
    s3_region: str = Field("auto", min_length=1, validation_alias=_env("S3_REGION"))
    # Declared after the other S3 fields so its validator can see them.
    s3_endpoint: str | None = Field(None, validation_alias=_env("S3_ENDPOINT"))

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, v: object) -> object:
        if isinstance(v, str):
            return tuple(o.strip().rstrip("/") for o in v.split(",") if o.strip())
        return v

    @field_validator("login_failure_limit", "auth_ip_limit", "write_user_limit", "write_ip_limit")
    @classmethod
    def _valid_limit(cls, v: str) -> str:
        try:
            parse_many(v)
        except ValueError as exc:
            raise ValueError(f"not a rate limit like '10/15minutes': {v!r}") from exc
        return v

    @field_validator("database_url")
    @classmethod
    def _valid_dsn(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("postgres://", "postgresql://")):
            raise ValueError("must start with postgresql://")
        return v or None

    @field_validator("smtp_url")
    @classmethod
    def _valid_smtp_url(cls, v: str | None) -> str | None:
        if not v:
            return None
        from .mail import SmtpRelay  # the one parser of the URL

        SmtpRelay.from_url(v)
        return v

    @field_validator("sentry_dsn", "sentry_web_dsn")
    @classmethod
    def _valid_sentry_dsn(cls, v: str | None) -> str | None:
        if not v:
            return None
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.username or not parts.hostname:
            raise ValueError("not a Sentry DSN like https://KEY@HOST/PROJECT")
        if not parts.path.strip("/").rsplit("/", 1)[-1].isdigit():
            raise ValueError("not a Sentry DSN like https://KEY@HOST/PROJECT (no project id)")
        return v

    @field_validator("s3_endpoint")
    @classmethod
    def _complete_s3(cls, v: str | None, info: ValidationInfo) -> str | None:
        if not v:
            return None
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        missing = [
            env
            for name, env in (
                ("s3_bucket", "S3_BUCKET"),
                ("s3_access_key_id", "S3_ACCESS_KEY_ID"),
                ("s3_secret_access_key", "S3_SECRET_ACCESS_KEY"),
            )
            if not info.data.get(name)
        ]
        if missing:
            raise ValueError(f"needs {', '.join(missing)} as well")
        return v.rstrip("/")

    @property
    def secret_file(self) -> Path:
        return self.data_dir / "jwt_secret"

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"


_ENV_NAMES = {
    name: (
        field.validation_alias.choices[0]
        if isinstance(field.validation_alias, AliasChoices)
        else name.upper()
    )
    for name, field in Settings.model_fields.items()
}


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment (overrides win), raising SettingsError in one line."""
    try:
        return Settings(**overrides)  # pydantic validates each value against its field
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = str(err["loc"][0]) if err["loc"] else "?"
        var = _ENV_NAMES.get(loc, loc)
        raise SettingsError(f"invalid {var}: {err['msg']}") from None


def load_or_create_secret(settings: Settings) -> str:
    """JWT secret: from JWT_SECRET, else a generated one kept 0600 in the data directory.

    Written whole to a private temporary file, then hard-linked into place (which fails if the
    name exists), so two nodes starting at once on one data directory agree on one secret and
    neither can read a half-written file.
    """
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    path = settings.secret_file
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        secret = secrets.token_urlsafe(48)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(secret)
                f.flush()
                os.fsync(f.fileno())
            os.link(tmp, path)
            return secret
        except FileExistsError:
            pass  # another node won the race: use its secret
        finally:
            tmp.unlink(missing_ok=True)
    secret = path.read_text().strip()
    if len(secret) < 32:
        raise SettingsError(f"invalid JWT secret file {path}: too short")
    return secret
