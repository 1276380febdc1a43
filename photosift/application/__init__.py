"""Use cases of the native service: albums, photos, members and their matching, events, background jobs."""
