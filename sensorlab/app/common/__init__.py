"""Widgets and plumbing every window shares: theme, Qt signal relays, background workers, subprocess runner, painted axes."""
