"""pitchey.server."""
