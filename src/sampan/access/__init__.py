"""Access: console users and sessions, roles and permissions, API keys, masking, audit log."""
