"""pitchey.rooms."""

# This folder is the package pitchey.rooms (pitchey/rooms links here). Imported under its folder name
# (`import rooms` with the repository root on sys.path), every module would load a second time
# as a distinct copy, with its own classes and app keys; refuse at once instead.
if __name__ != "pitchey.rooms":
    raise ImportError(f"import pitchey.rooms, not {__name__} (see docs/architecture.md)")
