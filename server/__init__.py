"""pitchey.server."""

# This folder is the package pitchey.server (pitchey/server links here). Imported under its folder name
# (`import server` with the repository root on sys.path), every module would load a second time
# as a distinct copy, with its own classes and app keys; refuse at once instead.
if __name__ != "pitchey.server":
    raise ImportError(f"import pitchey.server, not {__name__} (see docs/architecture.md)")
