"""pitchey.actors: pykka actors that live on the asyncio event loop."""

from pitchey.actors.asyncio_actor import AsyncioActor, AsyncioActorRef, AsyncioFuture, ask, stop

__all__ = ["AsyncioActor", "AsyncioActorRef", "AsyncioFuture", "ask", "stop"]
