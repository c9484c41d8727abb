"""Import consents from CSV as ``Consent Updated`` events, so identity decides who each row is.

Every row is checked before anything is stored; a file with one bad row stores nothing, and
importing the same file twice records each consent once (message ids come from the rows).
"""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from sampan.collect import service as collect
from sampan.collect.schemas import SourceInfo
from sampan.consent.rules import ConsentRuleError, PurposeCatalog, parse_change
from sampan.consent.schemas import ImportReport
from sampan.core.clock import Clock, system_clock, to_ms
from sampan.core.errors import InvalidInput

IMPORT_SOURCE = "Consent import"
MAX_ROWS = 100_000
IDENTIFIER_COLUMNS = (
    "user_id",
    "email",
    "phone",
    "line_user_id",
    "facebook_psid",
    "loyalty_id",
    "pos_customer_id",
)
_CONSENT_COLUMNS = (
    "purpose",
    "channel",
    "status",
    "lawful_basis",
    "notice_version",
    "notice_language",
    "expires_at",
)
_MAX_ERRORS = 20


def import_consents(
    session: Session, *, text: str, catalog: PurposeCatalog, clock: Clock = system_clock
) -> ImportReport:
    """Validate a consent CSV and log one ``Consent Updated`` event per row."""
    messages = _messages(text.lstrip("\ufeff"), catalog)
    source = _import_source(session)
    received_at = clock()
    try:
        accepted = collect.normalise_messages(
            {"batch": messages},
            endpoint_type=None,
            source_kind=source.kind,
            received_at=received_at,
        )
    except collect.MessageRejected as exc:
        raise InvalidInput(f"nothing was imported: {exc.message}") from None
    before = collect.latest_seq(session)
    collect.store_messages(
        session, source_id=source.id, messages=accepted, received_ms=to_ms(received_at)
    )
    logged = collect.count_events_after(session, after_seq=before)
    return ImportReport(rows=len(messages), events_logged=logged, source_id=source.id)


def _messages(text: str, catalog: PurposeCatalog) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    columns = set(reader.fieldnames or ())
    if not columns & set(IDENTIFIER_COLUMNS):
        raise InvalidInput(
            f"the CSV needs at least one identifier column: {', '.join(IDENTIFIER_COLUMNS)}"
        )
    missing = {"purpose", "status"} - columns
    if missing:
        raise InvalidInput(f"the CSV lacks required columns: {', '.join(sorted(missing))}")
    messages: list[dict[str, Any]] = []
    errors: list[str] = []
    for line, row in enumerate(reader, start=2):
        if len(messages) >= MAX_ROWS:
            raise InvalidInput(f"a CSV import holds at most {MAX_ROWS} rows; split the file")
        try:
            messages.append(_message(row, line, catalog))
        except (ConsentRuleError, InvalidInput) as exc:
            errors.append(str(exc))
            if len(errors) >= _MAX_ERRORS:
                break
    if errors:
        raise InvalidInput("nothing was imported; fix these rows: " + "; ".join(errors))
    if not messages:
        raise InvalidInput("the CSV has a header but no rows")
    return messages


def _message(row: dict[str, Any], line: int, catalog: PurposeCatalog) -> dict[str, Any]:
    where = f"line {line}"
    values = {key: (value or "").strip() for key, value in row.items() if key}
    ids = {key: values[key] for key in IDENTIFIER_COLUMNS if values.get(key)}
    if not ids:
        raise InvalidInput(f"{where}: give at least one of {', '.join(IDENTIFIER_COLUMNS)}")
    change = {key: values[key] for key in _CONSENT_COLUMNS if values.get(key)}
    parse_change(change, catalog, where=where)
    recorded_at = values.get("recorded_at") or None
    if recorded_at is not None:
        _check_time(recorded_at, where)
    # The line is part of the id: re-importing a file is idempotent, yet a grant repeated
    # after a withdrawal in the same file still counts.
    digest = hashlib.sha256(repr((line, sorted(values.items()))).encode()).hexdigest()
    people = hashlib.sha256(repr(sorted(ids.items())).encode()).hexdigest()
    message: dict[str, Any] = {
        "type": "track",
        "event": "Consent Updated",
        "messageId": f"consent-csv-{digest[:32]}",
        "properties": change,
        "context": {"traits": {k: v for k, v in ids.items() if k != "user_id"}},
    }
    if "user_id" in ids:
        message["userId"] = ids["user_id"]
    else:
        message["anonymousId"] = f"consent-import-{people[:24]}"
    if recorded_at:
        message["timestamp"] = recorded_at
    if values.get("capture_channel"):
        message["channel"] = values["capture_channel"]
    return message


def _check_time(value: str, where: str) -> None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{where}.recorded_at must be an ISO 8601 time, got {value!r}") from None
    if moment.tzinfo is None:
        raise InvalidInput(f"{where}.recorded_at must include a time zone, e.g. '+07:00'")


def _import_source(session: Session) -> SourceInfo:
    for source in collect.list_sources(session):
        if source.name == IMPORT_SOURCE:
            return source
    return collect.create_source(session, name=IMPORT_SOURCE, kind="server")
