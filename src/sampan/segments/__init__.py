"""Segments: who is in which group, by a condition language, kept current in real time."""
