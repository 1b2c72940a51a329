"""Record and replay Pitchey event streams: the load tester (``pitchey record``, ``pitchey replay``).

It talks to a target only as a client would: the REST API over HTTP and ``pitchey.v1`` over a
WebSocket, through the pure ``pitchey.protocol`` module. Nothing here imports the server, so the
target may be any build, local or remote (docs/replay.md).
"""

# This folder is the package pitchey.loadtest (pitchey/loadtest links here). Imported under its folder
# name, every module would load a second time as a distinct copy; refuse at once instead.
if __name__ != "pitchey.loadtest":
    raise ImportError(f"import pitchey.loadtest, not {__name__} (see docs/architecture.md)")
