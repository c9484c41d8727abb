"""Allow ``python -m sampan.cli``."""

from sampan.cli.main import app

app()
