"""The embedded PostgreSQL (pgserver) used when DATABASE_URL is unset.

Its data lives under the data directory, so accounts survive restarts; it listens on a Unix socket
only, never on a TCP port.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pgserver.postgres_server import PostgresServer

log = logging.getLogger("pitchey.storage.embedded")


class EmbeddedPostgres:
    """Start (or attach to) the pgserver instance for one data directory, and stop it."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata
        self._server: PostgresServer | None = None

    def start(self) -> str:
        """Blocking: initdb on first use, start, and return the DSN."""
        # Imported late: only needed when no DATABASE_URL is given. From its defining module, as
        # the package's __init__ re-exports it implicitly.
        from pgserver.postgres_server import get_server

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self._server = get_server(self.pgdata, cleanup_mode="stop")
        dsn = self._server.get_uri()
        log.info("embedded PostgreSQL running for %s", self.pgdata)
        return dsn

    def stop(self) -> None:
        """Blocking: stop the server if this process was its last user."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None
            log.info("embedded PostgreSQL stopped")
