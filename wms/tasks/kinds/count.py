"""The count task kind (rules not built yet: its tasks refuse scans)."""
