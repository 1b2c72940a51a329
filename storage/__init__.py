"""pitchey.storage."""

# This folder is the package pitchey.storage (pitchey/storage links here). Imported under its folder name
# (`import storage` with the repository root on sys.path), every module would load a second time
# as a distinct copy, with its own classes and app keys; refuse at once instead.
if __name__ != "pitchey.storage":
    raise ImportError(f"import pitchey.storage, not {__name__} (see docs/architecture.md)")
