"""pitchey.actors: pykka actors that live on the asyncio event loop."""

# This folder is the package pitchey.actors (pitchey/actors links here). Imported under its folder name
# (`import actors` with the repository root on sys.path), every module would load a second time
# as a distinct copy, with its own classes and app keys; refuse at once instead.
if __name__ != "pitchey.actors":
    raise ImportError(f"import pitchey.actors, not {__name__} (see docs/architecture.md)")

from pitchey.actors.asyncio_actor import AsyncioActor, AsyncioActorRef, AsyncioFuture, ask, stop

__all__ = ["AsyncioActor", "AsyncioActorRef", "AsyncioFuture", "ask", "stop"]
