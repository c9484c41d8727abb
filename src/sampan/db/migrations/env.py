"""Alembic environment: every domain's tables, for SQLite and PostgreSQL alike."""

from alembic import context
from sqlalchemy import create_engine, pool

from sampan.access import models as _access  # noqa: F401 - registers tables
from sampan.collect import models as _collect  # noqa: F401
from sampan.commerce import models as _commerce  # noqa: F401
from sampan.consent import models as _consent  # noqa: F401
from sampan.db import outbox as _outbox  # noqa: F401
from sampan.db.base import Base
from sampan.identity import models as _identity  # noqa: F401
from sampan.journeys import models as _journeys  # noqa: F401
from sampan.messaging import models as _messaging  # noqa: F401
from sampan.profiles import models as _profiles  # noqa: F401
from sampan.segments import models as _segments  # noqa: F401

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    """Run migrations on the configured database."""
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
