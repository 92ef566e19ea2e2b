"""Alembic migrations of the store, shipped in the package and applied at start (`upgrade head`)."""
