"""Pure consent rules: what a consent change may say, and whether a person may be contacted.

Kept free of storage so the decision can be property-tested against random histories.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sampan.settings import CONTACT_CHANNELS, ConsentPurpose

STATUSES = ("granted", "withdrawn")
LAWFUL_BASES = ("consent", "contract", "legitimate_interest", "legal_obligation")
# camelCase is what tracking clients send; snake_case is accepted from CSV and the API.
_ALIASES = {
    "lawfulBasis": "lawful_basis",
    "noticeVersion": "notice_version",
    "noticeLanguage": "notice_language",
    "expiresAt": "expires_at",
}
_FIELDS = frozenset(
    {"purpose", "channel", "status", "lawful_basis", "notice_version", "notice_language"}
    | {"expires_at"}
)


class ConsentRuleError(ValueError):
    """A consent change that cannot be recorded; the message names the field."""


@dataclass(frozen=True)
class PurposeCatalog:
    """The workspace's purposes by name."""

    purposes: Mapping[str, ConsentPurpose]

    @classmethod
    def build(cls, purposes: Iterable[ConsentPurpose]) -> PurposeCatalog:
        """Index purposes by name."""
        return cls({p.name: p for p in purposes})

    def get(self, name: str) -> ConsentPurpose:
        """Return a purpose or raise ConsentRuleError naming the known ones."""
        purpose = self.purposes.get(name)
        if purpose is None:
            known = ", ".join(sorted(self.purposes))
            raise ConsentRuleError(f"unknown purpose {name!r}: expected one of {known}")
        return purpose

    def check_channel(self, purpose_name: str, channel: str | None) -> str:
        """Return the stored channel key of a purpose ('' when it is not per channel)."""
        purpose = self.get(purpose_name)
        if not purpose.per_channel:
            if channel:
                raise ConsentRuleError(
                    f"purpose {purpose_name!r} is not given per channel: leave 'channel' out"
                )
            return ""
        if channel not in CONTACT_CHANNELS:
            raise ConsentRuleError(
                f"purpose {purpose_name!r} is given per channel: 'channel' must be one of "
                f"{', '.join(CONTACT_CHANNELS)}, got {channel!r}"
            )
        return channel

    def slots(self) -> list[tuple[str, str]]:
        """Return every (purpose, channel) a person can consent to, in display order."""
        slots: list[tuple[str, str]] = []
        for purpose in self.purposes.values():
            channels = CONTACT_CHANNELS if purpose.per_channel else ("",)
            slots.extend((purpose.name, channel) for channel in channels)
        return slots


@dataclass(frozen=True)
class ConsentChange:
    """One validated change of consent for one purpose and channel."""

    purpose: str
    channel: str
    status: str
    lawful_basis: str
    notice_version: str | None
    notice_language: str | None
    expires_at: datetime | None


def parse_changes(
    properties: Mapping[str, Any], catalog: PurposeCatalog, *, where: str = "properties"
) -> list[ConsentChange]:
    """Read the changes of a ``Consent Updated`` event: one flat change or a ``consents`` list."""
    items = properties.get("consents")
    if items is None:
        return [parse_change(properties, catalog, where=where)]
    if not isinstance(items, list) or not items:
        raise ConsentRuleError(f"{where}.consents must be a non-empty list of objects")
    return [
        parse_change(item, catalog, where=f"{where}.consents[{index}]")
        for index, item in enumerate(items)
    ]


def parse_change(item: Any, catalog: PurposeCatalog, *, where: str) -> ConsentChange:
    """Validate one change given as a JSON object."""
    if not isinstance(item, Mapping):
        raise ConsentRuleError(f"{where} must be an object")
    fields = {_ALIASES.get(str(key), str(key)): value for key, value in item.items()}
    purpose = _text(fields, "purpose", where, required=True)
    status = _text(fields, "status", where, required=True)
    if status not in STATUSES:
        raise ConsentRuleError(f"{where}.status must be 'granted' or 'withdrawn', got {status!r}")
    try:
        channel = catalog.check_channel(purpose or "", _text(fields, "channel", where))
    except ConsentRuleError as exc:
        raise ConsentRuleError(f"{where}: {exc}") from None
    basis = _text(fields, "lawful_basis", where) or "consent"
    if basis not in LAWFUL_BASES:
        raise ConsentRuleError(
            f"{where}.lawful_basis must be one of {', '.join(LAWFUL_BASES)}, got {basis!r}"
        )
    return ConsentChange(
        purpose=purpose or "",
        channel=channel,
        status=status,
        lawful_basis=basis,
        notice_version=_text(fields, "notice_version", where),
        notice_language=_text(fields, "notice_language", where),
        expires_at=_time(fields.get("expires_at"), where),
    )


def _text(fields: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str | None:
    value = fields.get(key)
    if value is None or value == "":
        if required:
            raise ConsentRuleError(f"{where}.{key} is required")
        return None
    if not isinstance(value, str) or len(value) > 60:
        raise ConsentRuleError(f"{where}.{key} must be a string of at most 60 characters")
    return value


def _time(value: Any, where: str) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ConsentRuleError(
            f"{where}.expires_at must be an ISO 8601 time, got {value!r}"
        ) from None
    if moment.tzinfo is None:
        raise ConsentRuleError(f"{where}.expires_at must include a time zone, e.g. 'Z'")
    return moment


@dataclass(frozen=True)
class ConsentFact:
    """A stored consent record as the decision needs it."""

    purpose: str
    channel: str
    status: str
    recorded_at: datetime
    order: int
    expires_at: datetime | None = None


@dataclass(frozen=True)
class ContactDecision:
    """Whether a person may be contacted for a purpose on a channel, and why."""

    allowed: bool
    reason: str
    detail: str


def current_consents(facts: Iterable[ConsentFact]) -> dict[tuple[str, str], ConsentFact]:
    """Return the latest record per (purpose, channel): the derived current state."""
    latest: dict[tuple[str, str], ConsentFact] = {}
    for fact in facts:
        key = (fact.purpose, fact.channel)
        held = latest.get(key)
        if held is None or (fact.recorded_at, fact.order) > (held.recorded_at, held.order):
            latest[key] = fact
    return latest


def decide(
    *,
    purpose: ConsentPurpose,
    channel: str,
    facts: Sequence[ConsentFact],
    blocks: Sequence[str],
    now: datetime,
) -> ContactDecision:
    """Decide contactability; ``blocks`` lists restrictions, objections and suppressions."""
    if "erased" in blocks:
        return ContactDecision(False, "erased", "the person's data was erased")
    if "restricted" in blocks:
        return ContactDecision(False, "restricted", "processing of this person is restricted")
    if "objected" in blocks:
        return ContactDecision(False, "objected", "the person objected to processing")
    if "suppressed" in blocks:
        return ContactDecision(
            False, "suppressed", "an identifier of this person is on the suppression list"
        )
    fact = current_consents(facts).get((purpose.name, channel))
    label = _label(purpose, channel)
    if fact is not None and fact.status == "withdrawn":
        return ContactDecision(False, "withdrawn", f"consent to {label} was withdrawn")
    if not purpose.requires_consent:
        return ContactDecision(True, "lawful_basis", f"{label} rests on a contract, not consent")
    if fact is None:
        return ContactDecision(False, "no_consent", f"no consent to {label} was recorded")
    if fact.expires_at is not None and fact.expires_at <= now:
        return ContactDecision(False, "expired", f"consent to {label} expired")
    return consented(purpose, channel)


def consented(purpose: ConsentPurpose, channel: str) -> ContactDecision:
    """Return the decision for a person whose consent to the purpose on the channel holds."""
    return ContactDecision(True, "consented", f"consent to {_label(purpose, channel)} is granted")


def _label(purpose: ConsentPurpose, channel: str) -> str:
    return f"{purpose.name}" + (f" on {channel}" if channel else "")
