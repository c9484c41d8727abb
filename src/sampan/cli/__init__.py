"""The ``sampan`` command line."""
