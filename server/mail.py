"""Email out through SMTP (`SMTP_URL`): the daily digest is its one user so far.

`smtp://host:port` (plain, for a relay on loopback), `smtp+starttls://user:pass@host:587`, or
`smtps://user:pass@host:465`. The standard library's client runs in a thread: mail is rare and
a background job waits for it, never a request. Unset, nothing is sent.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from urllib.parse import unquote, urlsplit


class MailError(Exception):
    """The relay refused or could not be reached; the job that sends is retried."""


@dataclass(frozen=True, slots=True)
class Mail:
    to: str
    to_name: str | None
    subject: str
    text: str


@dataclass(frozen=True)
class SmtpRelay:
    host: str
    port: int
    mode: str  # "plain", "starttls" or "tls"
    username: str | None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> SmtpRelay:
        parts = urlsplit(url)
        modes = {"smtp": "plain", "smtp+starttls": "starttls", "smtps": "tls"}
        if parts.scheme not in modes or not parts.hostname:
            raise ValueError("must be smtp://, smtp+starttls:// or smtps:// with a host")
        default_port = {"plain": 25, "starttls": 587, "tls": 465}[modes[parts.scheme]]
        return cls(
            parts.hostname,
            parts.port or default_port,
            modes[parts.scheme],
            unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None,
        )

    def __repr__(self) -> str:  # never the password
        return f"SmtpRelay({self.mode}://{self.host}:{self.port})"

    def _send(self, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if self.mode == "tls":
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=30, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=30)
        with client:
            if self.mode == "starttls":
                client.starttls(context=context)
            if self.username:
                client.login(self.username, self.password or "")
            client.send_message(message)

    async def send(self, mail: Mail, sender: str) -> str:
        """Send one message; its Message-ID."""
        message = EmailMessage()
        message["From"] = sender
        message["To"] = formataddr((mail.to_name or "", mail.to))
        message["Subject"] = mail.subject
        message["Message-ID"] = make_msgid(domain="pitchey")
        message.set_content(mail.text)
        try:
            await asyncio.to_thread(self._send, message)
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(f"{type(exc).__name__}: {exc}") from None
        return str(message["Message-ID"])
