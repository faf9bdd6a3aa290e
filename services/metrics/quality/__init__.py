"""Quality rules as documents: the packaged defaults, per-shop overrides, and their loader."""
