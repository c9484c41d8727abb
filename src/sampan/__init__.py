"""Sampan: an open-source omnichannel customer platform for Thai businesses."""

__version__ = "0.1.0"
