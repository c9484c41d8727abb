"""Retention: remove each class of data once it is older than its period, and report it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from sampan.access.schemas import SYSTEM, Principal
from sampan.consent import subjects
from sampan.consent.models import RetentionRun
from sampan.consent.schemas import RetentionReport, RetentionRule, RetentionRunOut
from sampan.core.clock import Clock, system_clock, to_ms
from sampan.core.errors import InvalidInput
from sampan.core.personal_data import PersonalDataRegistry, RetentionClass
from sampan.profiles import service as profiles

INACTIVE_PROFILES = "inactive_profiles"
# Erasing is heavier than deleting rows: a run anonymises at most this many profiles.
_PROFILES_PER_RUN = 5000


def retention_classes(
    registry: PersonalDataRegistry, *, actor: Principal = SYSTEM, clock: Clock = system_clock
) -> list[RetentionClass]:
    """Return every class of data with a retention period, the inactive profiles last."""

    def expire_profiles(session: Session, cutoff_ms: int) -> int:
        expired = profiles.inactive_profile_ids(
            session, last_seen_before_ms=cutoff_ms, limit=_PROFILES_PER_RUN
        )
        for profile_id in expired:
            subjects.erase_person(
                session,
                registry=registry,
                profile_id=profile_id,
                actor=actor,
                suppress=False,
                reason="retention",
                clock=clock,
            )
        return len(expired)

    return [
        *registry.retention,
        RetentionClass(
            name=INACTIVE_PROFILES,
            description="Profiles not seen for the period are anonymised like an erasure, "
            "without a suppression entry",
            default_days=1095,
            purge=expire_profiles,
        ),
    ]


def retention_rules(registry: PersonalDataRegistry, days: Mapping[str, int]) -> list[RetentionRule]:
    """Return the period in force per class (0 means kept until erased)."""
    return [
        RetentionRule(name=c.name, description=c.description, days=days.get(c.name, c.default_days))
        for c in retention_classes(registry)
    ]


def check_retention_days(registry: PersonalDataRegistry, days: Mapping[str, int]) -> None:
    """Refuse retention settings naming a class of data that does not exist (a typo)."""
    known = {c.name for c in retention_classes(registry)}
    unknown = sorted(set(days) - known)
    if unknown:
        raise InvalidInput(
            f"retention_days names unknown classes {', '.join(unknown)}: "
            f"the classes are {', '.join(sorted(known))}"
        )
    negative = sorted(name for name, value in days.items() if value < 0)
    if negative:
        raise InvalidInput(f"retention_days must be 0 (keep) or more days: {', '.join(negative)}")


def enforce_retention(
    session: Session,
    *,
    registry: PersonalDataRegistry,
    days: Mapping[str, int],
    actor: Principal,
    clock: Clock = system_clock,
) -> RetentionRunOut:
    """Remove what outlived its retention period in every class; record what was removed."""
    started = clock()
    removed: dict[str, int] = {}
    rules = {rule.name: rule.days for rule in retention_rules(registry, days)}
    for retention_class in retention_classes(registry, actor=actor, clock=clock):
        period = rules[retention_class.name]
        if period > 0:
            cutoff_ms = to_ms(started - timedelta(days=period))
            removed[retention_class.name] = retention_class.purge(session, cutoff_ms)
    run = RetentionRun(started_at=started, finished_at=clock(), removed=removed, rules=rules)
    session.add(run)
    session.flush()
    return _run_out(run)


def retention_report(
    session: Session, *, registry: PersonalDataRegistry, days: Mapping[str, int], limit: int = 20
) -> RetentionReport:
    """Return the rules in force and the latest runs, newest first."""
    runs = session.scalars(select(RetentionRun).order_by(RetentionRun.id.desc()).limit(limit))
    return RetentionReport(
        rules=retention_rules(registry, days), runs=[_run_out(run) for run in runs]
    )


def last_run_started(session: Session) -> float | None:
    """Return when the latest run started, as epoch seconds, or None before the first."""
    started = session.scalar(select(RetentionRun.started_at).order_by(RetentionRun.id.desc()))
    return started.timestamp() if started is not None else None


def _run_out(run: RetentionRun) -> RetentionRunOut:
    return RetentionRunOut(
        started_at=run.started_at,
        finished_at=run.finished_at,
        removed=run.removed,
        rules=run.rules,
    )
