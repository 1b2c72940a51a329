"""pitchey.actors."""
