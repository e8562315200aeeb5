"""Picking: waves of pick tasks. ``rules`` holds the pure wave-building rule (no database)."""
