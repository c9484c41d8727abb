"""Hand a person's data over (ZIP of JSON and CSV) or erase it, through every domain's holder."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from sampan.access import service as access
from sampan.access.schemas import Principal
from sampan.consent import records
from sampan.consent.schemas import ErasureReport
from sampan.core.clock import Clock, system_clock
from sampan.core.errors import InvalidInput
from sampan.core.personal_data import DataSubject, PersonalDataRegistry, Rows
from sampan.identity import service as identity
from sampan.profiles import service as profiles

_README = """Sampan: personal data export / ข้อมูลส่วนบุคคลของคุณ

This archive holds everything this business stores about you in Sampan, as JSON and
as CSV (one file per kind of data): manifest.json lists the files and their row counts.
ไฟล์นี้รวบรวมข้อมูลส่วนบุคคลทั้งหมดที่ธุรกิจจัดเก็บเกี่ยวกับคุณในระบบ Sampan
ในรูปแบบ JSON และ CSV (หนึ่งไฟล์ต่อข้อมูลหนึ่งประเภท) ตามสิทธิของเจ้าของข้อมูล
ภายใต้ พ.ร.บ.คุ้มครองข้อมูลส่วนบุคคล พ.ศ. 2562 มาตรา 30 และ 31
"""


def subject_of(session: Session, *, profile_id: str) -> DataSubject:
    """Gather a person's profile ids, identifiers and events, as every holder needs them."""
    person = profiles.find_person(session, profile_id=profile_id)
    found = identity.identifiers_of(session, profile_ids=person.profile_ids)
    return DataSubject(
        profile_id=person.profile_id,
        profile_ids=tuple(person.profile_ids),
        identifiers=tuple((i.type, i.value) for ids in found.values() for i in ids),
        event_seqs=tuple(profiles.event_seqs_of(session, profile_ids=person.profile_ids)),
    )


def export_person(
    session: Session,
    *,
    registry: PersonalDataRegistry,
    profile_id: str,
    actor: Principal,
    request_id: str | None = None,
    clock: Clock = system_clock,
) -> bytes:
    """Return a ZIP of everything Sampan holds about a person, and audit the export."""
    registry.catch_up(session)
    subject = subject_of(session, profile_id=profile_id)
    _refuse_erased(session, subject)
    sections: dict[str, Rows] = {}
    for holder in registry.holders:
        for name, rows in holder.export(session, subject).items():
            if name in sections:
                raise RuntimeError(f"two holders export a section named {name!r}")
            sections[name] = rows
    access.record_audit(
        session,
        actor=actor,
        action="profile.exported",
        subject_type="profile",
        subject_id=subject.profile_id,
        detail={"sections": sorted(sections), "request_id": request_id},
        clock=clock,
    )
    return _zip(subject.profile_id, sections, clock())


def erase_person(
    session: Session,
    *,
    registry: PersonalDataRegistry,
    profile_id: str,
    actor: Principal,
    suppress: bool = True,
    reason: str = "erasure_request",
    request_id: str | None = None,
    clock: Clock = system_clock,
) -> ErasureReport:
    """Remove a person's personal data from every domain; keep anonymous aggregates only.

    With ``suppress`` the person's identifiers stay behind as salted hashes, so a later
    import of the same e-mail or phone is never contacted again.
    """
    registry.catch_up(session)
    subject = subject_of(session, profile_id=profile_id)
    _refuse_erased(session, subject)
    suppressed = (
        records.suppress(session, identifiers=subject.identifiers, reason="erased", clock=clock)
        if suppress
        else 0
    )
    removed: dict[str, int] = {}
    for holder in registry.holders:
        for name, count in holder.erase(session, subject).items():
            removed[f"{holder.name}.{name}"] = count
    access.record_audit(
        session,
        actor=actor,
        action="profile.erased",
        subject_type="profile",
        subject_id=subject.profile_id,
        detail={"reason": reason, "request_id": request_id, "removed": removed},
        clock=clock,
    )
    session.flush()
    return ErasureReport(
        profile_id=subject.profile_id, removed=removed, suppressed_identifiers=suppressed
    )


def _refuse_erased(session: Session, subject: DataSubject) -> None:
    person = profiles.find_person(session, profile_id=subject.profile_id)
    if person.erased_at is not None:
        raise InvalidInput(
            f"profile '{subject.profile_id}' was already erased on "
            f"{person.erased_at.date().isoformat()}"
        )


def _zip(profile_id: str, sections: Mapping[str, Rows], now: datetime) -> bytes:
    buffer = io.BytesIO()
    manifest: dict[str, Any] = {
        "profile_id": profile_id,
        "generated_at": now.isoformat(),
        "files": {},
    }
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", _README)
        for name, rows in sections.items():
            archive.writestr(f"{name}.json", json.dumps(rows, ensure_ascii=False, indent=2))
            archive.writestr(f"{name}.csv", _csv(rows))
            manifest["files"][name] = {
                "rows": len(rows),
                "json": f"{name}.json",
                "csv": f"{name}.csv",
            }
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
    return buffer.getvalue()


def _csv(rows: Rows) -> str:
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    out = io.StringIO()
    # A byte-order mark makes Excel read Thai text as UTF-8.
    out.write("\ufeff")
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                key: json.dumps(value, ensure_ascii=False)
                if isinstance(value, dict | list)
                else value
                for key, value in row.items()
            }
        )
    return out.getvalue()
