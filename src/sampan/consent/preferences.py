"""The customer's preference page: a signed, expiring link to see and change every consent.

The same link is the unsubscribe target of every message, so withdrawing takes one click,
exactly as granting does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from sampan.access.masking import mask_email, mask_phone
from sampan.access.schemas import Principal
from sampan.consent import records
from sampan.consent.rules import ConsentChange, PurposeCatalog
from sampan.consent.schemas import ConsentState, PreferenceLink
from sampan.core.clock import Clock, system_clock
from sampan.core.errors import NotFound
from sampan.identity import service as identity
from sampan.profiles import service as profiles

SOURCE = "preference_page"
_SALT = "sampan.preferences"
_CHANNEL_TITLES = {
    "email": ("อีเมล", "E-mail"),
    "sms": ("SMS", "SMS"),
    "line": ("LINE", "LINE"),
    "push": ("การแจ้งเตือนบนแอป/เว็บ", "App and web notifications"),
    "facebook": ("Facebook Messenger", "Facebook Messenger"),
    "phone": ("โทรศัพท์", "Phone calls"),
}
_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def preference_link(
    session: Session,
    *,
    profile_id: str,
    public_url: str,
    valid_days: int,
    clock: Clock = system_clock,
) -> PreferenceLink:
    """Return a signed link to a person's preference page, valid for ``valid_days``."""
    person = profiles.find_person(session, profile_id=profile_id)
    if person.erased_at is not None:
        raise NotFound(f"profile '{profile_id}' was erased")
    token = _serializer(session, clock).dumps({"p": person.profile_id})
    return PreferenceLink(
        url=f"{public_url.rstrip('/')}/preferences/{token}",
        expires_at=clock() + timedelta(days=valid_days),
    )


def preference_links(
    session: Session,
    *,
    profile_ids: Sequence[str],
    public_url: str,
    clock: Clock = system_clock,
) -> dict[str, str]:
    """Return the preference page link of many surviving profiles at once (senders' batches).

    The ids must be the people's surviving profiles, as ``find_people`` gives them.
    """
    serializer = _serializer(session, clock)
    base = public_url.rstrip("/")
    return {pid: f"{base}/preferences/{serializer.dumps({'p': pid})}" for pid in profile_ids}


def profile_of_token(
    session: Session, *, token: str, valid_days: int, clock: Clock = system_clock
) -> str:
    """Return the profile a link was made for; raise NotFound when forged or expired."""
    try:
        data = _serializer(session, clock).loads(token, max_age=valid_days * 86400)
    except SignatureExpired:
        raise NotFound("this link has expired: use the link in a newer message") from None
    except BadSignature:
        raise NotFound("this link is not valid") from None
    profile_id = data.get("p") if isinstance(data, dict) else None
    if not isinstance(profile_id, str):
        raise NotFound("this link is not valid")
    person = profiles.find_person(session, profile_id=profile_id)
    if person.erased_at is not None:
        raise NotFound("the data of this person was erased; there is nothing left to manage")
    return person.profile_id


def save_choices(
    session: Session,
    *,
    profile_id: str,
    chosen: set[tuple[str, str]],
    catalog: PurposeCatalog,
    language: str,
    clock: Clock = system_clock,
) -> int:
    """Record what the customer changed on the page; return how many choices changed."""
    state = records.consent_state(session, profile_id=profile_id, catalog=catalog, clock=clock)
    changes = []
    for slot in state.current:
        key = (slot.purpose, slot.channel or "")
        now_on = _is_on(slot.status, slot.requires_consent)
        if now_on != (key in chosen):
            status = "granted" if key in chosen else "withdrawn"
            changes.append(_change(key, status, language))
    return _record_for_customer(session, profile_id, changes, SOURCE, "web", clock)


def unsubscribe(
    session: Session,
    *,
    profile_id: str,
    catalog: PurposeCatalog,
    channel: str | None = None,
    clock: Clock = system_clock,
) -> int:
    """Withdraw marketing consent on every channel (or one); return how many were withdrawn."""
    state = records.consent_state(session, profile_id=profile_id, catalog=catalog, clock=clock)
    changes = [
        _change((slot.purpose, slot.channel or ""), "withdrawn", None)
        for slot in state.current
        if slot.requires_consent
        and slot.channel
        and slot.status == "granted"
        and (channel is None or slot.channel == channel)
    ]
    return _record_for_customer(session, profile_id, changes, "unsubscribe_link", None, clock)


def render_page(
    session: Session,
    *,
    profile_id: str,
    token: str,
    catalog: PurposeCatalog,
    language: str,
    saved: int | None = None,
    clock: Clock = system_clock,
) -> str:
    """Render the preference page in Thai or English."""
    state = records.consent_state(session, profile_id=profile_id, catalog=catalog, clock=clock)
    thai = language != "en"
    return _TEMPLATES.get_template("preferences.html").render(
        thai=thai,
        token=token,
        whom=_whom(session, profile_id),
        purposes=_purposes(state, catalog, thai),
        saved=saved,
    )


def render_message(*, title: str, body: str, language: str) -> str:
    """Render a short page: an expired link, a confirmed unsubscribe."""
    return _TEMPLATES.get_template("message.html").render(
        thai=language != "en", title=title, body=body
    )


def _purposes(state: ConsentState, catalog: PurposeCatalog, thai: bool) -> list[dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for slot in state.current:
        purpose = catalog.get(slot.purpose)
        group = groups.setdefault(
            slot.purpose,
            {"title": purpose.title_th if thai else purpose.title_en, "options": []},
        )
        label = _CHANNEL_TITLES[slot.channel][0 if thai else 1] if slot.channel else group["title"]
        group["options"].append(
            {
                "value": f"{slot.purpose}:{slot.channel or ''}",
                "label": label,
                "on": _is_on(slot.status, slot.requires_consent),
            }
        )
    return list(groups.values())


def _whom(session: Session, profile_id: str) -> str:
    person = profiles.find_person(session, profile_id=profile_id)
    found = identity.identifiers_of(session, profile_ids=person.profile_ids)
    for ids in found.values():
        for identifier in ids:
            if identifier.type == "email":
                return mask_email(identifier.value)
            if identifier.type == "phone":
                return mask_phone(identifier.value)
    return ""


def _is_on(status: str, requires_consent: bool) -> bool:
    return status == "granted" or (status == "none" and not requires_consent)


def _change(slot: tuple[str, str], status: str, language: str | None) -> ConsentChange:
    return ConsentChange(
        purpose=slot[0],
        channel=slot[1],
        status=status,
        lawful_basis="consent",
        notice_version=None,
        # The page itself is the notice shown: its language is the evidence kept.
        notice_language=language,
        expires_at=None,
    )


def _record_for_customer(
    session: Session,
    profile_id: str,
    changes: list[ConsentChange],
    source: str,
    capture_channel: str | None,
    clock: Clock,
) -> int:
    if changes:
        customer = Principal(
            kind="customer", id=profile_id, name="customer", role=None, permissions=frozenset()
        )
        records.record_changes(
            session,
            profile_id=profile_id,
            changes=changes,
            actor=customer,
            source=source,
            capture_channel=capture_channel,
            clock=clock,
        )
    return len(changes)


def _serializer(session: Session, clock: Clock) -> URLSafeTimedSerializer:
    class ClockSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock().timestamp())

    secret = records.workspace_secret(session, "link_signing_key")
    return URLSafeTimedSerializer(secret, salt=_SALT, signer=ClockSigner)
