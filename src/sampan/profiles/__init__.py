"""Profiles: the Customer 360 — traits, computed traits, notes and one timeline per person."""
