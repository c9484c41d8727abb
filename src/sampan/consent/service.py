"""Consent's facade: consents and ``can_contact``, data-subject requests, retention, links."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from sampan.access.schemas import Principal
from sampan.consent import records, subjects
from sampan.consent.imports import import_consents
from sampan.consent.models import ConsentRecord, PrivacyRequest, ProcessingBlock
from sampan.consent.preferences import (
    preference_link,
    preference_links,
    profile_of_token,
    render_message,
    render_page,
    save_choices,
    unsubscribe,
)
from sampan.consent.requests import (
    close_erasure_requests,
    export_request,
    fulfil_request,
    get_request,
    list_requests,
    open_request,
    redact_requesters,
    transition_request,
)
from sampan.consent.retention import (
    check_retention_days,
    enforce_retention,
    last_run_started,
    retention_report,
)
from sampan.consent.rules import (
    ConsentChange,
    ConsentRuleError,
    ContactDecision,
    PurposeCatalog,
    parse_change,
    parse_changes,
)
from sampan.consent.schemas import ConsentRecordOut, ConsentUpdate, ContactCheck, ErasureReport
from sampan.consent.subjects import export_person
from sampan.core.clock import Clock, system_clock
from sampan.core.errors import InvalidInput, NotFound
from sampan.core.personal_data import DataSubject, PersonalDataRegistry, Rows
from sampan.identity import service as identity
from sampan.identity.service import IdentityRules
from sampan.profiles import service as profiles

__all__ = [
    "CONSENT_EVENT",
    "ContactDecision",
    "ContactCheck",
    "PurposeCatalog",
    "blocked_profiles",
    "can_contact",
    "can_contact_many",
    "check_retention_days",
    "consent_event_check",
    "consent_rows",
    "consent_state",
    "enforce_retention",
    "erase_personal_data",
    "erase_person",
    "export_personal_data",
    "export_person",
    "export_request",
    "fulfil_request",
    "get_request",
    "import_consents",
    "last_run_started",
    "list_requests",
    "open_request",
    "person_language",
    "preference_link",
    "preference_links",
    "profile_of_token",
    "record_consent_events",
    "record_consents",
    "render_message",
    "render_page",
    "retention_report",
    "save_choices",
    "set_block",
    "suppress_identifier",
    "transition_request",
    "unsubscribe",
    "workspace_secret",
]

CONSENT_EVENT = records.CONSENT_EVENT
consent_state = records.consent_state
record_consent_events = records.record_consent_events
set_block = records.set_block
workspace_secret = records.workspace_secret


def record_consents(
    session: Session,
    *,
    profile_id: str,
    update: ConsentUpdate,
    actor: Principal,
    catalog: PurposeCatalog,
    clock: Clock = system_clock,
) -> list[ConsentRecordOut]:
    """Record consents given or withdrawn through the management API (staff, POS, import)."""
    changes: list[ConsentChange] = []
    for index, item in enumerate(update.consents):
        fields = item.model_dump(exclude_none=True, mode="json")
        try:
            changes.append(parse_change(fields, catalog, where=f"consents[{index}]"))
        except ConsentRuleError as exc:
            raise InvalidInput(str(exc)) from None
    return records.record_changes(
        session,
        profile_id=profile_id,
        changes=changes,
        actor=actor,
        source=f"api:{actor.kind}:{actor.id}",
        capture_channel=update.capture_channel,
        recorded_at=update.recorded_at,
        clock=clock,
    )


def can_contact(
    session: Session,
    *,
    profile_id: str,
    purpose: str,
    channel: str | None,
    catalog: PurposeCatalog,
    clock: Clock = system_clock,
) -> ContactCheck:
    """Decide whether a person may be contacted for a purpose on a channel, with the reason.

    Every sender goes through here or ``can_contact_many`` (one decision path): restriction,
    objection, erasure and the suppression list win over any consent.
    """
    decision = can_contact_many(
        session,
        profile_ids=[profile_id],
        purpose=purpose,
        channel=channel,
        catalog=catalog,
        clock=clock,
    )[profile_id]
    if decision.reason == "unknown":
        raise NotFound(decision.detail)
    return ContactCheck(
        profile_id=profile_id,
        purpose=purpose,
        channel=channel,
        allowed=decision.allowed,
        reason=decision.reason,
        detail=decision.detail,
    )


def can_contact_many(
    session: Session,
    *,
    profile_ids: Sequence[str],
    purpose: str,
    channel: str | None,
    catalog: PurposeCatalog,
    clock: Clock = system_clock,
) -> dict[str, ContactDecision]:
    """Decide for many people at once (senders check a whole batch in a few queries)."""
    return records.can_contact_many(
        session,
        profile_ids=profile_ids,
        purpose=purpose,
        channel=channel,
        catalog=catalog,
        clock=clock,
    )


def erase_person(
    session: Session,
    *,
    registry: PersonalDataRegistry,
    profile_id: str,
    actor: Principal,
    clock: Clock = system_clock,
) -> ErasureReport:
    """Erase a person everywhere, suppress their identifiers, close their erasure requests."""
    report = subjects.erase_person(
        session, registry=registry, profile_id=profile_id, actor=actor, clock=clock
    )
    close_erasure_requests(session, report=report, actor=actor, clock=clock)
    return report


def suppress_identifier(
    session: Session, *, id_type: str, value: str, reason: str, rules: IdentityRules
) -> bool:
    """Put one identifier on the suppression list; return whether it was new there."""
    normalised = identity.normalise_identifier(id_type, value, rules)
    added = records.suppress(
        session, identifiers=[(normalised.type, normalised.value)], reason=reason
    )
    return added > 0


def consent_rows(purpose: str, channel: str) -> Select[str, str, datetime | None, datetime, int]:
    """Return a query of every record of one purpose and channel, for other domains to join.

    Columns: profile_id, status, expires_at, recorded_at, id (later wins on equal times).
    """
    return select(
        ConsentRecord.profile_id,
        ConsentRecord.status,
        ConsentRecord.expires_at,
        ConsentRecord.recorded_at,
        ConsentRecord.id,
    ).where(ConsentRecord.purpose == purpose, ConsentRecord.channel == channel)


def blocked_profiles() -> Select[str]:
    """Return a query of the profile ids whose processing is restricted or who objected."""
    return select(ProcessingBlock.profile_id)


def person_language(session: Session, *, profile_id: str) -> str:
    """Return 'en' for a person whose locale is English, else 'th'."""
    locale = profiles.find_person(session, profile_id=profile_id).locale or "th"
    return "en" if locale.lower().startswith("en") else "th"


def consent_event_check(catalog: PurposeCatalog) -> Callable[[Mapping[str, Any]], None]:
    """Return the check collection runs on ``Consent Updated`` properties before accepting."""

    def check(properties: Mapping[str, Any]) -> None:
        parse_changes(properties, catalog)

    return check


def export_personal_data(session: Session, subject: DataSubject) -> Mapping[str, Rows]:
    """Return the person's consent history, blocks and data-subject requests."""
    ids = list(subject.profile_ids)
    blocks = session.scalars(select(ProcessingBlock).where(ProcessingBlock.profile_id.in_(ids)))
    requests = session.scalars(select(PrivacyRequest.id).where(PrivacyRequest.profile_id.in_(ids)))
    return {
        "consents": records.export_personal_data(session, ids),
        "processing_blocks": [
            {"kind": b.kind, "since": b.since.isoformat(), "request_id": b.request_id}
            for b in blocks
        ],
        "privacy_requests": [
            get_request(session, request_id=request_id).model_dump(mode="json")
            for request_id in requests
        ],
    }


def erase_personal_data(session: Session, subject: DataSubject) -> Mapping[str, int]:
    """Delete the person's consents and blocks; redact who asked in their requests."""
    ids: Sequence[str] = list(subject.profile_ids)
    removed = records.erase_personal_data(session, ids)
    removed["privacy_requests_redacted"] = redact_requesters(session, list(ids))
    return removed
