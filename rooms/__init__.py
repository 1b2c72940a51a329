"""pitchey.rooms."""
