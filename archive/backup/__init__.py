"""Backups (online snapshots with an incremental blob copy), restores into an empty instance, restore drills."""
