"""Floor and counter work as tasks with lines, worked by scans (docs/design.md, "Tasks and scans")."""
