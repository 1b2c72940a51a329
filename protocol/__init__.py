"""pitchey.protocol."""
