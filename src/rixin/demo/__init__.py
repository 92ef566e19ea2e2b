"""The flagship demo: data and task."""
