"""Messaging: channels, templates, the message outbox, policies, tracking and campaigns."""
