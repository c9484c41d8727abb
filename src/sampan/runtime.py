"""Everything a running Sampan process shares: settings, database and identity rules."""

from __future__ import annotations

from dataclasses import dataclass

from sampan.db.engine import Database, connect
from sampan.identity.service import IdentityRules
from sampan.settings import Settings


@dataclass(frozen=True)
class Runtime:
    """The process-wide context built once from settings."""

    settings: Settings
    db: Database
    # Writes of derived data (profiles, identities) that the event log can rebuild: on
    # SQLite they commit with synchronous=NORMAL, which in WAL mode stays consistent and
    # may lose only the last transactions on power loss, replayed from the log's cursor.
    derived_db: Database
    rules: IdentityRules

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        """Connect to the database and build the identity rules the settings describe."""
        url = settings.resolved_database_url()
        db = connect(url, sqlite_synchronous=settings.sqlite_synchronous)
        derived_db = (
            connect(url, sqlite_synchronous="NORMAL", write_lock=db.write_lock)
            if db.is_sqlite
            else db
        )
        rules = IdentityRules.build(
            custom_types=settings.identity_custom_types,
            priority=settings.identity_priority,
            limits=settings.identity_limits,
            blocked=settings.identity_blocked_values,
            phone_region=settings.default_phone_region,
        )
        return cls(settings=settings, db=db, derived_db=derived_db, rules=rules)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.db.dispose()
        if self.derived_db is not self.db:
            self.derived_db.dispose()
