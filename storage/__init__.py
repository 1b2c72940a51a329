"""pitchey.storage."""
