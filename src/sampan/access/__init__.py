"""Access: API keys for the management API (users, roles and audit arrive with privacy)."""
