"""Pitchey Realtime, installed as one namespace: ``pitchey.server``, ``pitchey.actors``,
``pitchey.rooms``, ``pitchey.protocol``, ``pitchey.storage`` and ``pitchey.loadtest``.

The six subpackages are relative symlinks to the top-level folders of the repository, so every
tool that reads the disk (mypy, pyright, IDEs, import-graph tools) resolves ``pitchey.*`` without
an import hook. See docs/architecture.md, "One package on disk".
"""
