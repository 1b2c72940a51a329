"""`pitchey` with a read cache that never answers: every catalog read runs its query.

For the catalog-at-scale REST figures (bench/bench_catalog.py): the ready answers would otherwise
serve a signed-in browse page from memory for 10 s, hiding the query this suite is about. Only
the read cache (server/cache.py `TtlCache`, the state's `cache`) is bypassed: remembered tokens,
the pools and every middleware are the shipped ones. The harness starts it in place of
`pitchey.server.cli` through BENCH_PITCHEY_MODULE.

    BENCH_PITCHEY_MODULE=bench.pitchey_cold python -m bench.bench_catalog

With BENCH_PITCHEY_TREE set to a checkout of another revision, that revision's `pitchey` runs.
"""

from __future__ import annotations

import os
import sys
from typing import Any

# BENCH_PITCHEY_TREE: a checkout of another revision (bench_catalog's "before" server) whose
# `pitchey` package is imported instead of this one's.
if os.environ.get("BENCH_PITCHEY_TREE"):
    sys.path.insert(0, os.environ["BENCH_PITCHEY_TREE"])

from pitchey.server import cache


async def _miss(self: cache.TtlCache, key: str) -> Any | None:
    return None


async def _keep_nothing(self: cache.TtlCache, key: str, value: Any, **kwargs: Any) -> bool:
    return False


cache.TtlCache.get = _miss  # type: ignore[method-assign]
cache.TtlCache.set = _keep_nothing  # type: ignore[method-assign]

if __name__ == "__main__":
    from pitchey.server.cli import main

    raise SystemExit(main())
