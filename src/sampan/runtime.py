"""Everything a running Sampan process shares: settings, database, rules and the registry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from sqlalchemy.orm import Session

from sampan.collect import service as collect
from sampan.commerce import service as commerce
from sampan.consent import service as consent
from sampan.core.clock import from_ms, system_clock
from sampan.core.personal_data import (
    DataSubject,
    PersonalDataHolder,
    PersonalDataRegistry,
    RetentionClass,
    Rows,
)
from sampan.db.engine import Database, connect
from sampan.db.outbox import take
from sampan.identity import service as identity
from sampan.identity.service import IdentityRules
from sampan.journeys import service as journeys
from sampan.messaging import service as messaging
from sampan.profiles import service as profiles
from sampan.profiles.schemas import PipelineBatch, PipelineProgress
from sampan.segments import service as segments
from sampan.segments.compiler import CompileContext
from sampan.settings import Settings

# Changes made outside the pipeline that segments must see.
CHANGE_TOPICS = ("profiles.changed", "profiles.unmerged", "consent.changed")


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
    catalog: consent.PurposeCatalog
    registry: PersonalDataRegistry = field(init=False)
    messaging_rules: messaging.MessagingRules = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "registry", self._build_registry())
        object.__setattr__(self, "messaging_rules", messaging.rules_from_settings(self.settings))
        consent.check_retention_days(self.registry, self.settings.retention_days)

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
        return cls(
            settings=settings,
            db=db,
            derived_db=derived_db,
            rules=rules,
            catalog=consent.PurposeCatalog.build(settings.consent_purposes),
        )

    def advance_pipeline(self, session: Session) -> PipelineProgress:
        """Fold the next batch of logged events into identities, profiles and consents."""
        return profiles.process_new_events(
            session,
            rules=self.rules,
            currency=self.settings.default_currency,
            batch_size=self.settings.pipeline_batch_size,
            on_batch=self._react,
        )

    def catch_up(self, session: Session) -> None:
        """Advance the pipeline until every logged event is folded in, in this transaction."""
        while self.advance_pipeline(session).processed:
            pass

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.db.dispose()
        if self.derived_db is not self.db:
            self.derived_db.dispose()

    def segment_context(self) -> CompileContext:
        """Return what segment conditions compile against now: backend, clock, zone."""
        lifecycle = self.settings.lifecycle
        return CompileContext(
            dialect=self.db.engine.dialect.name,
            # To the minute: statements compiled for one minute are reused within it.
            now=system_clock().replace(second=0, microsecond=0),
            timezone=self.settings.timezone,
            no_consent_needed=frozenset(
                p.name for p in self.settings.consent_purposes if not p.requires_consent
            ),
            active_days=lifecycle.active_days,
            churned_days=lifecycle.churned_days,
            vip_spend=lifecycle.vip_spend,
            vip_orders=lifecycle.vip_orders,
            purposes=tuple(
                (name, tuple(channel for p, channel in self.catalog.slots() if p == name))
                for name in self.catalog.purposes
            ),
            identifier_types=tuple(self.rules.priority),
        )

    def react_to_changes(self, session: Session) -> int:
        """Apply the domain events other domains react to; return how many were taken."""
        events = take(session, consumer="segments", topics=CHANGE_TOPICS)
        if events:
            segments.react_to_changes(
                session,
                events,
                context=self.segment_context(),
                currency=self.settings.default_currency,
            )
        return len(events)

    def journey_env(self) -> journeys.JourneyEnv:
        """Return what running journeys needs, on the messaging rules' clock."""
        clock = self.messaging_rules.clock

        def segment_context() -> CompileContext:
            # Conditions in journeys see "today" on the journeys' clock.
            return replace(self.segment_context(), now=clock().replace(second=0, microsecond=0))

        return journeys.JourneyEnv(
            messaging=self.messaging_rules,
            catalog=self.catalog,
            currency=self.settings.default_currency,
            timezone=self.settings.timezone,
            segment_context=segment_context,
            clock=clock,
        )

    def commerce_env(self) -> commerce.CommerceEnv:
        """Return what commerce needs: its settings, the identity rules, currency and clock."""
        return commerce.CommerceEnv(
            settings=self.settings.commerce,
            identity=self.rules,
            currency=self.settings.default_currency,
            clock=self.messaging_rules.clock,
        )

    def advance_journeys(self, *, limit: int = 500) -> int:
        """Start runs on segment changes and schedules, then advance a round of due runs."""
        env = self.journey_env()
        # Apart: the segment cursor and the journeys' ticks are locked while taken, and
        # rounds of due runs on several workers must not wait for each other.
        with self.db.transaction() as session:
            changed = journeys.react_to_segments(session, env)
            changed += journeys.react_to_clock(session, env)
        with self.db.transaction() as session:
            return changed + journeys.advance_due(session, env, limit=limit)

    def dispatcher(self) -> messaging.Dispatcher:
        """Return a message sender for this process (close it when done)."""
        return messaging.Dispatcher(
            self.db,
            rules=self.messaging_rules,
            catalog=self.catalog,
            threads=self.settings.message_send_threads,
            batch_size=self.settings.message_batch_size,
        )

    def launch_due_campaigns(self) -> int:
        """Launch every scheduled campaign whose time has come; return how many."""
        with self.db.reading() as session:
            due = messaging.due_campaigns(session, now=self.messaging_rules.clock())
        for campaign_id in due:
            with self.db.transaction() as session:
                messaging.launch_campaign(
                    session,
                    campaign_id=campaign_id,
                    rules=self.messaging_rules,
                    catalog=self.catalog,
                    currency=self.settings.default_currency,
                )
        return len(due)

    def _react(self, session: Session, batch: PipelineBatch) -> None:
        consent.record_consent_events(
            session, events=batch.events, attribution=batch.attribution, catalog=self.catalog
        )
        segments.react_to_batch(
            session,
            batch,
            context=self.segment_context(),
            currency=self.settings.default_currency,
        )
        journeys.react_to_batch(session, batch, self.journey_env())
        commerce.react_to_batch(session, batch, self.commerce_env())

    def _build_registry(self) -> PersonalDataRegistry:
        currency = self.settings.default_currency

        def export_profile(session: Session, subject: DataSubject) -> Mapping[str, Rows]:
            return profiles.export_personal_data(session, subject, currency=currency)

        def purge_raw_events(session: Session, cutoff_ms: int) -> int:
            processed = profiles.pipeline_status(session).processed_seq
            # Segments' copy of event properties goes with the events it was read from.
            segments.purge_events(session, before_ms=cutoff_ms)
            return collect.purge_events(session, received_before_ms=cutoff_ms, up_to_seq=processed)

        # Erasure order: what points at identifiers and profiles goes before them.
        holders = (
            PersonalDataHolder(
                "journeys", journeys.export_personal_data, journeys.erase_personal_data
            ),
            PersonalDataHolder(
                "commerce", commerce.export_personal_data, commerce.erase_personal_data
            ),
            PersonalDataHolder(
                "messaging", messaging.export_personal_data, messaging.erase_personal_data
            ),
            PersonalDataHolder(
                "segments", segments.export_personal_data, segments.erase_personal_data
            ),
            PersonalDataHolder(
                "consent", consent.export_personal_data, consent.erase_personal_data
            ),
            PersonalDataHolder(
                "collect", collect.export_personal_data, collect.erase_personal_data
            ),
            PersonalDataHolder(
                "identity", identity.export_personal_data, identity.erase_personal_data
            ),
            PersonalDataHolder("profiles", export_profile, profiles.erase_personal_data),
        )
        raw_events = RetentionClass(
            name="raw_events",
            description="Events as collected; profiles keep what was learnt from them",
            default_days=730,
            purge=purge_raw_events,
        )
        messages = RetentionClass(
            name="messages",
            description="Messages sent and their delivery history",
            default_days=365,
            purge=lambda session, cutoff_ms: messaging.purge_messages(session, from_ms(cutoff_ms)),
        )
        return PersonalDataRegistry(
            holders=holders, retention=(raw_events, messages), catch_up=self.catch_up
        )
