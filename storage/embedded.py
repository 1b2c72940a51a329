"""The embedded PostgreSQL (pgserver) used when DATABASE_URL is unset.

Its data lives under the data directory, so accounts survive restarts; it listens on a Unix socket
only, never on a TCP port.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

log = logging.getLogger("pitchey.storage.embedded")


class EmbeddedPostgres:
    """Start (or attach to) the pgserver instance for one data directory, and stop it."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata
        self._server: Any = None

    def start(self) -> str:
        """Blocking: initdb on first use, start, and return the DSN."""
        import pgserver  # imported late: it is only needed when no DATABASE_URL is given

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self._server = pgserver.get_server(self.pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]
        dsn: str = self._server.get_uri()
        log.info("embedded PostgreSQL running for %s", self.pgdata)
        return dsn

    def stop(self) -> None:
        """Blocking: stop the server if this process was its last user."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None
            log.info("embedded PostgreSQL stopped")
