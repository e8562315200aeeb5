"""The pick task kind (rules not built yet: its tasks refuse scans)."""
