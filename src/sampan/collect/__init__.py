"""Collect: sources, write keys and the durable event log fed by the Segment-compatible API."""
