"""Append to and read the audit log of who saw, exported, changed or erased what."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sampan.access.models import AuditRecord
from sampan.access.schemas import AuditEntry, AuditPage, Principal
from sampan.core.clock import Clock, system_clock
from sampan.core.errors import InvalidInput
from sampan.db.engine import Database

MAX_PAGE = 500


def record_audit(
    session: Session,
    *,
    actor: Principal,
    action: str,
    subject_type: str,
    subject_id: str | None = None,
    detail: dict[str, Any] | None = None,
    clock: Clock = system_clock,
) -> None:
    """Add an audit entry to the caller's transaction.

    Entries hold ids, action and field names only, never personal values: an erased
    person's e-mail address must not survive in the log, which can never be edited.
    """
    session.add(
        AuditRecord(
            at=clock(),
            actor_kind=actor.kind,
            actor_id=actor.id,
            actor_role=actor.role,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            detail=detail or {},
        )
    )


def list_audit(
    session: Session,
    *,
    actor_id: str | None = None,
    action: str | None = None,
    subject_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> AuditPage:
    """Return audit entries, newest first; ``action`` may end in ``*`` to match a prefix."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE} (got {limit})")
    query = select(AuditRecord)
    if actor_id:
        query = query.where(AuditRecord.actor_id == actor_id)
    if action and action.endswith("*"):
        query = query.where(AuditRecord.action.startswith(action[:-1], autoescape=True))
    elif action:
        query = query.where(AuditRecord.action == action)
    if subject_id:
        query = query.where(AuditRecord.subject_id == subject_id)
    if since is not None:
        query = query.where(AuditRecord.at >= _aware(since, "since"))
    if until is not None:
        query = query.where(AuditRecord.at < _aware(until, "until"))
    if cursor:
        query = query.where(AuditRecord.id < _cursor(cursor))
    rows = list(session.scalars(query.order_by(AuditRecord.id.desc()).limit(limit + 1)))
    page = rows[:limit]
    next_cursor = str(page[-1].id) if len(rows) > limit else None
    return AuditPage(items=[_entry(row) for row in page], next_cursor=next_cursor)


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None:
        raise InvalidInput(f"{name} needs a time zone, e.g. 2026-07-01T00:00:00+07:00")
    return moment


def _cursor(cursor: str) -> int:
    if not cursor.isdigit():
        raise InvalidInput(f"cursor '{cursor}' is not one this API returned: pass next_cursor")
    return int(cursor)


def _entry(row: AuditRecord) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        actor_kind=row.actor_kind,
        actor_id=row.actor_id,
        actor_role=row.actor_role,
        action=row.action,
        subject_type=row.subject_type,
        subject_id=row.subject_id,
        detail=row.detail,
    )


@dataclass
class _Pending:
    actor: Principal
    action: str
    subject_type: str
    subject_id: str | None
    detail: dict[str, Any] | None
    at: datetime
    done: bool = False
    error: BaseException | None = None


class AuditBatcher:
    """Record audit entries of reads in group commits shared by concurrent requests.

    A read has no transaction to add its entry to. Committing one transaction per view
    would cost each lookup its own fsync under SQLite's single write lock, so the first
    waiting request writes every entry queued so far in one transaction, and each request
    returns only once its own entry is committed: batched, never buffered.
    """

    def __init__(self, db: Database, *, clock: Clock = system_clock) -> None:
        self._db = db
        self._clock = clock
        self._condition = threading.Condition()
        self._pending: list[_Pending] = []
        self._writing = False

    def record(
        self,
        *,
        actor: Principal,
        action: str,
        subject_type: str,
        subject_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Add an audit entry in its own (shared) transaction; return once it is committed."""
        pending = _Pending(actor, action, subject_type, subject_id, detail, self._clock())
        with self._condition:
            self._pending.append(pending)
            while not pending.done:
                if self._writing:
                    self._condition.wait()
                    continue
                self._writing = True
                batch, self._pending = self._pending, []
                error = self._write_outside_lock(batch)
                for item in batch:
                    item.done, item.error = True, error
                self._writing = False
                self._condition.notify_all()
        if pending.error is not None:
            raise RuntimeError("the audit log could not be written") from pending.error

    def _write_outside_lock(self, batch: list[_Pending]) -> BaseException | None:
        self._condition.release()
        try:
            with self._db.transaction() as session:
                for item in batch:
                    record_audit(
                        session,
                        actor=item.actor,
                        action=item.action,
                        subject_type=item.subject_type,
                        subject_id=item.subject_id,
                        detail=item.detail,
                        clock=_at(item.at),
                    )
        except Exception as exc:  # noqa: BLE001 - handed to every request of the batch
            return exc
        finally:
            self._condition.acquire()
        return None


def _at(moment: datetime) -> Clock:
    return lambda: moment
