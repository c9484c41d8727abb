"""Identity: identifier normalisation, resolution into profiles, merge history and un-merge."""
