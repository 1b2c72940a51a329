"""A real S3-compatible server on loopback for tests: moto in server mode, in a thread.

Tests talk to it over HTTP exactly as the app talks to R2 or MinIO (no patched clients), so the
S3 blob store's requests, multipart uploads and presigned URLs are exercised for real.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

ACCESS_KEY = "testing-access-key"
SECRET_KEY = "testing-secret-key"  # moto accepts any credentials
REGION = "us-east-1"


@contextmanager
def moto_s3_server() -> Iterator[str]:
    """Start moto on 127.0.0.1 (a free port); yields its endpoint URL; stops it afterwards."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()
