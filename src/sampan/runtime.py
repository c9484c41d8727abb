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
    rules: IdentityRules

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        """Connect to the database and build the identity rules the settings describe."""
        db = connect(
            settings.resolved_database_url(), sqlite_synchronous=settings.sqlite_synchronous
        )
        rules = IdentityRules.build(
            custom_types=settings.identity_custom_types,
            priority=settings.identity_priority,
            limits=settings.identity_limits,
            blocked=settings.identity_blocked_values,
            phone_region=settings.default_phone_region,
        )
        return cls(settings=settings, db=db, rules=rules)
