"""Consent and privacy under PDPA: consents, can_contact, data-subject requests, retention."""
