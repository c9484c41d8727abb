"""Sending what the outbox holds: claim, re-check policies, send, record; crash-safe.

A claim marks messages ``sending`` with a lease and commits before any provider is called.
If the process dies mid-send, the lease runs out: on a channel whose provider drops resends
of the same retry key (LINE, outgoing webhooks) the message is sent again with that key, so
it arrives once; elsewhere it is failed as *in doubt*, never sent twice. Results of
non-idempotent sends commit one by one so that at most the sends in flight can be in doubt.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import orjson
import structlog
from sqlalchemy import ColumnElement, Row, Table, bindparam, delete, select, update
from sqlalchemy.orm import Session

from sampan.collect import service as collect
from sampan.consent import service as consent
from sampan.db.engine import Database
from sampan.messaging.channels import registry
from sampan.messaging.channels.base import (
    ChannelAdapter,
    Delivery,
    Envelope,
    PermanentError,
    TransientError,
)
from sampan.messaging.models import Channel, Message, PushSubscription, ReplyToken
from sampan.messaging.rules import CONSENT_CHANNEL, backoff_seconds, quiet_until
from sampan.messaging.schemas import MessagingRules

log = structlog.get_logger(__name__)
# The retry key of a message sent as a LINE reply starts with this.
REPLIED = "r:"
# LINE accepts a reply token for a short while after the webhook; stay well inside it.
REPLY_TOKEN_SECONDS = 50
# Where each kind of channel writes its events in the log.
SOURCE_KIND = {"email": "email", "line": "line", "facebook": "facebook"}
_LINE_GROUPS = uuid.UUID("5a3b0e9e-3f2c-4a8e-9d7c-7d1c1e6f0a11")


_CLAIMED_COLUMNS = (
    Message.id,
    Message.profile_id,
    Message.channel_id,
    Message.kind,
    Message.address,
    Message.content,
    Message.headers,
    Message.category,
    Message.purpose,
    Message.retry_key,
    Message.attempts,
    Message.subject,
    Message.campaign_id,
    Message.variant,
    Message.status,
    Message.timezone,
)


@dataclass
class _Claimed:
    id: str
    channel_id: str
    kind: str
    address: str
    content: dict[str, Any]
    headers: dict[str, Any]
    category: str
    retry_key: str
    attempts: int
    subject: dict[str, Any]
    campaign_id: str | None
    variant: str | None
    # First attempt, not a resend after a crash: only these may take a reply token or be
    # grouped into a multicast, since a resend must repeat the first request exactly.
    fresh: bool = False
    reply_token: str | None = None


@dataclass
class _Outcome:
    claimed: Sequence[_Claimed]
    delivery: Delivery | None = None
    error: Exception | None = None


class _RateLimit:
    """A token bucket: at most ``rate`` sends per second from this process."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._allowance = rate
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def wait(self) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                self._allowance = min(self.rate, self._allowance + (now - self._last) * self.rate)
                self._last = now
                if self._allowance >= 1:
                    self._allowance -= 1
                    return
                pause = (1 - self._allowance) / self.rate
            time.sleep(pause)


@dataclass
class _Live:
    row: Channel
    adapter: ChannelAdapter
    limit: _RateLimit | None


class Dispatcher:
    """Send due messages in batches; safe to run in several processes at once."""

    def __init__(
        self,
        db: Database,
        *,
        rules: MessagingRules,
        catalog: consent.PurposeCatalog,
        threads: int = 8,
        batch_size: int = 200,
    ) -> None:
        self.db = db
        self.rules = rules
        self.catalog = catalog
        self.batch_size = batch_size
        self.threads = threads
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sampan-send")
        self._live: dict[str, _Live] = {}

    def close(self) -> None:
        """Stop the send threads and close provider connections."""
        self._pool.shutdown(wait=True)
        for live in self._live.values():
            live.adapter.close()
        self._live.clear()

    def drain(self, *, limit: int = 1_000_000) -> int:
        """Send until nothing is due; return how many messages were handled.

        The next batch is claimed while the current one is on the wire. Only messages of
        idempotent channels are claimed ahead: the others wait for their own round, so no
        more of them than there are send threads can ever be in doubt.
        """
        total = 0
        claimed = self._claim_batch(idempotent=True, plain=True)
        while claimed and total < limit:
            futures = [self._pool.submit(self._send, group) for group in _group(claimed)]
            total += len(claimed)
            upcoming = self._claim_batch(idempotent=True, plain=False)
            self._record([future.result() for future in futures])
            # Retries this round just queued may be due already: look again when nothing was.
            claimed = upcoming + self._claim_batch(idempotent=not upcoming, plain=True)
        return total

    def run_once(self) -> int:
        """Claim one batch of due messages, send it and record the outcomes together."""
        claimed = self._claim_batch(idempotent=True, plain=True)
        if claimed:
            futures = [self._pool.submit(self._send, group) for group in _group(claimed)]
            self._record([future.result() for future in futures])
        return len(claimed)

    def _claim_batch(self, *, idempotent: bool, plain: bool) -> list[_Claimed]:
        with self.db.transaction() as session:
            self._refresh_channels(session)
            return self._claim(session, idempotent=idempotent, plain=plain)

    def next_due(self) -> datetime | None:
        """Return when the next queued message comes due, if any."""
        with self.db.reading() as session:
            return session.scalar(
                select(Message.due_at)
                .where(Message.status == "queued")
                .order_by(Message.due_at)
                .limit(1)
            )

    # -- claiming ---------------------------------------------------------------------------

    def _claim(self, session: Session, *, idempotent: bool, plain: bool) -> list[_Claimed]:
        now = self.rules.clock()
        self._give_up_in_doubt(session, now)
        safe = [kind for kind in registry.KINDS if registry.is_idempotent(kind)]
        others = [kind for kind in registry.KINDS if kind not in safe]
        due = (Message.status == "queued") & (Message.due_at <= now)
        expired = (Message.status == "sending") & (Message.lease_until < now)
        rows: list[Row[Any]] = []
        if idempotent:
            rows += self._due(session, Message.kind.in_(safe) & (due | expired), self.batch_size)
        if plain:
            # A crash leaves every claimed message of a channel without provider idempotency
            # in doubt: claiming no more of them than there are send threads bounds that to
            # the sends truly in flight.
            rows += self._due(session, Message.kind.in_(others) & due, self.threads)
        rows += _rest_of_groups(session, rows, now)
        if not rows:
            return []
        allowed, changes = self._recheck(session, rows, now)
        claimed = []
        lease = now + timedelta(seconds=self.rules.lease_seconds)
        for row in allowed:
            if row.channel_id not in self._live:
                changes.append(
                    {
                        "id": row.id,
                        "status": "failed",
                        "reason": "channel is off",
                        "finished_at": now,
                    }
                )
                continue
            first = row.status == "queued"
            attempts = row.attempts + (1 if first else 0)
            claimed.append(
                _Claimed(
                    id=row.id,
                    channel_id=row.channel_id or "",
                    kind=row.kind or "",
                    address=row.address or "",
                    content=row.content,
                    headers=row.headers,
                    category=row.category,
                    retry_key=row.retry_key,
                    attempts=attempts,
                    fresh=first and attempts == 1,
                    subject=row.subject,
                    campaign_id=row.campaign_id,
                    variant=row.variant,
                )
            )
        self._line_extras(session, claimed, now)
        changes += [
            {
                "id": item.id,
                "status": "sending",
                "lease_until": lease,
                "attempts": item.attempts,
                "retry_key": item.retry_key,
            }
            for item in claimed
        ]
        _bulk_update(session, changes)
        return claimed

    def _due(self, session: Session, where: ColumnElement[bool], limit: int) -> list[Row[Any]]:
        query = select(*_CLAIMED_COLUMNS).where(where).order_by(Message.due_at).limit(limit)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return list(session.execute(query))

    def _give_up_in_doubt(self, session: Session, now: datetime) -> None:
        plain = [kind for kind in registry.KINDS if not registry.is_idempotent(kind)]
        session.execute(
            update(Message)
            .where(
                Message.status == "sending",
                Message.lease_until < now,
                Message.kind.in_(plain) | Message.retry_key.startswith(REPLIED),
            )
            .values(
                status="failed",
                reason="in doubt: the sender stopped during the send; not retried so that it "
                "cannot arrive twice",
                finished_at=now,
                lease_until=None,
            )
        )

    def _recheck(
        self, session: Session, rows: list[Row[Any]], now: datetime
    ) -> tuple[list[Row[Any]], list[dict[str, Any]]]:
        """Consent may have changed and quiet hours may have begun since the enqueue.

        Return the rows that may go now, and the changes of those that may not.
        """
        by_slot: dict[tuple[str, str], list[Row[Any]]] = {}
        for row in rows:
            by_slot.setdefault((row.kind or "", row.purpose), []).append(row)
        allowed = []
        changes: list[dict[str, Any]] = []
        for (kind, purpose), group in by_slot.items():
            checks = consent.can_contact_many(
                session,
                profile_ids=[row.profile_id for row in group],
                purpose=purpose,
                channel=CONSENT_CHANNEL.get(kind, kind),
                catalog=self.catalog,
                clock=self.rules.clock,
            )
            for row in group:
                check = checks[row.profile_id]
                if not check.allowed:
                    reason = f"{check.reason}: {check.detail}"
                    changes.append(
                        {"id": row.id, "status": "suppressed", "reason": reason, "finished_at": now}
                    )
                    continue
                if row.category == "marketing" and row.status == "queued":
                    quiet = quiet_until(
                        now,
                        timezone=row.timezone,
                        start=self.rules.quiet_start,
                        end=self.rules.quiet_end,
                    )
                    if quiet is not None:
                        reason = f"deferred by quiet hours until {quiet.isoformat()}"
                        changes.append({"id": row.id, "due_at": quiet, "reason": reason})
                        continue
                allowed.append(row)
        return allowed, changes

    def _line_extras(self, session: Session, claimed: list[_Claimed], now: datetime) -> None:
        """Use fresh reply tokens (free on LINE), and group identical pushes into multicasts."""
        fresh = [c for c in claimed if c.kind == "line" and c.fresh]
        if not fresh:
            return
        tokens = {
            (t.channel_id, t.channel_user_id): t
            for t in session.scalars(
                select(ReplyToken).where(
                    ReplyToken.channel_user_id.in_({c.address for c in fresh}),
                    ReplyToken.received_at > now - timedelta(seconds=REPLY_TOKEN_SECONDS),
                )
            )
        }
        groups: dict[tuple[str, bytes], list[_Claimed]] = {}
        for item in fresh:
            token = tokens.pop((item.channel_id, item.address), None)
            if token is not None:
                item.reply_token = token.token
                # A reply has no retry key: marked so that a claim after a crash fails it as
                # in doubt instead of pushing it again.
                item.retry_key = f"{REPLIED}{item.retry_key}"
                session.execute(
                    delete(ReplyToken).where(
                        ReplyToken.channel_id == token.channel_id,
                        ReplyToken.channel_user_id == token.channel_user_id,
                    )
                )
                continue
            key = (item.channel_id, orjson.dumps(item.content, option=orjson.OPT_SORT_KEYS))
            groups.setdefault(key, []).append(item)
        for members in groups.values():
            for start in range(0, len(members), 500):
                chunk = members[start : start + 500]
                if len(chunk) < 2:
                    continue
                shared = str(uuid.uuid5(_LINE_GROUPS, ",".join(sorted(c.id for c in chunk))))
                for item in chunk:
                    item.retry_key = shared

    # -- sending ----------------------------------------------------------------------------

    def _refresh_channels(self, session: Session) -> None:
        rows = {row.id: row for row in session.scalars(select(Channel))}
        for channel_id in list(self._live):
            row = rows.get(channel_id)
            live = self._live[channel_id]
            if row is None or not row.enabled or row.updated_at != live.row.updated_at:
                live.adapter.close()
                del self._live[channel_id]
        for channel_id, row in rows.items():
            if row.enabled and channel_id not in self._live:
                session.expunge(row)
                try:
                    adapter = registry.build_adapter(row.kind, row.config)
                except registry.ConfigError:
                    log.exception("channel configuration is invalid", channel=row.name)
                    continue
                limit = _RateLimit(row.rate_per_second) if row.rate_per_second else None
                self._live[channel_id] = _Live(row, adapter, limit)

    def _send(self, group: list[_Claimed]) -> _Outcome:
        """Send one envelope; return what came of it."""
        first = group[0]
        live = self._live.get(first.channel_id)
        try:
            if live is None:
                raise PermanentError("the channel was deleted or switched off")
            if live.limit is not None:
                live.limit.wait()
            delivery = live.adapter.send(
                Envelope(
                    message_id=first.id,
                    retry_key=first.retry_key,
                    to=tuple(item.address for item in group),
                    content=first.content,
                    category=first.category,
                    headers=first.headers,
                    reply_token=first.reply_token,
                )
            )
            outcome = _Outcome(group, delivery=delivery)
        except Exception as exc:  # noqa: BLE001 - every outcome is recorded
            outcome = _Outcome(group, error=exc)
        return outcome

    # -- recording --------------------------------------------------------------------------

    def _record(self, outcomes: Iterable[_Outcome]) -> None:
        now = self.rules.clock()
        rules = self.rules
        sent: list[tuple[_Claimed, Delivery]] = []
        changes: list[dict[str, Any]] = []
        with self.db.transaction() as session:
            for outcome in outcomes:
                for item in outcome.claimed:
                    values: dict[str, Any] = {"lease_until": None}
                    error = outcome.error
                    if outcome.delivery is not None:
                        delivery = outcome.delivery
                        values.update(
                            status="sent",
                            sent_at=now,
                            reason="the provider already had it (same retry key)"
                            if delivery.duplicate
                            else None,
                            provider_message_id=delivery.provider_message_id,
                            units=delivery.units if len(outcome.claimed) == 1 else 1,
                        )
                        sent.append((item, delivery))
                    elif isinstance(error, TransientError) and _in_doubt(item, error):
                        values.update(
                            status="failed",
                            reason=f"in doubt, not retried so that it cannot arrive twice: {error}",
                            finished_at=now,
                        )
                    elif isinstance(error, PermanentError) or item.attempts >= rules.max_attempts:
                        values.update(
                            status="failed",
                            reason=f"dead letter after {item.attempts} attempt(s): {error}",
                            finished_at=now,
                        )
                        if item.kind == "push" and getattr(error, "status", None) in (404, 410):
                            _drop_subscription(session, item.address, now)
                    else:
                        retry_after = (
                            error.retry_after if isinstance(error, TransientError) else None
                        )
                        wait = backoff_seconds(
                            item.attempts,
                            base=rules.retry_base_seconds,
                            cap=rules.retry_max_seconds,
                            # Members of a multicast share the key, so they come due together.
                            key=item.retry_key,
                            retry_after=retry_after,
                        )
                        values.update(
                            status="queued",
                            due_at=now + timedelta(seconds=wait),
                            reason=f"attempt {item.attempts} failed, retrying: {error}",
                        )
                    changes.append({"id": item.id, **values})
            _bulk_update(session, changes)
            track(
                session,
                [
                    (
                        item.channel_id,
                        "Message Sent",
                        item.subject,
                        {
                            **about(item),
                            "providerMessageId": delivery.provider_message_id,
                        },
                        f"{item.id}:sent",
                    )
                    for item, delivery in sent
                ],
                self._sources(),
                now,
            )

    def _sources(self) -> dict[str, tuple[str, str]]:
        return {
            channel_id: (live.row.source_id, SOURCE_KIND.get(live.row.kind, "server"))
            for channel_id, live in self._live.items()
        }


def _in_doubt(item: _Claimed, error: TransientError) -> bool:
    """Return whether a failed send may have arrived and must not be sent again.

    A reply (LINE's reply token) has no retry key, so any failure but "too many requests"
    may have gone out; elsewhere the adapter says so, and idempotent channels resend safely.
    """
    if item.reply_token is not None:
        return error.status != 429
    return error.in_doubt and not registry.is_idempotent(item.kind)


def about(message: _Claimed | Message) -> dict[str, Any]:
    """Return the properties every event about a message carries."""
    props: dict[str, Any] = {
        "messageId": message.id,
        "channel": message.kind,
        "category": message.category,
    }
    if message.campaign_id:
        props["campaignId"] = message.campaign_id
        props["variant"] = message.variant
    return props


TrackedEvent = tuple[str, str, dict[str, Any], dict[str, Any], str]


def track(
    session: Session,
    events: Sequence[TrackedEvent],
    sources: dict[str, tuple[str, str]],
    now: datetime,
) -> None:
    """Write events about messages to the log: (channel id, name, subject, props, event id)."""
    by_source: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for channel_id, name, subject, properties, event_id in events:
        source = sources.get(channel_id)
        if source is None:
            continue
        payload: dict[str, Any] = {
            "type": "track",
            "event": name,
            "messageId": event_id,
            "properties": properties,
            "timestamp": now.isoformat(),
        }
        external = subject.get("externalIds")
        payload.update({k: v for k, v in subject.items() if k != "externalIds"})
        if external:
            payload["context"] = {"externalIds": external}
        by_source.setdefault(source, []).append(payload)
    for (source_id, kind), payloads in by_source.items():
        accepted = collect.normalise_messages(
            {"batch": payloads}, endpoint_type=None, source_kind=kind, received_at=now
        )
        collect.store_messages(
            session, source_id=source_id, messages=accepted, received_ms=int(now.timestamp() * 1000)
        )


def _drop_subscription(session: Session, subscription: str, now: datetime) -> None:
    try:
        endpoint = orjson.loads(subscription)["endpoint"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return
    session.execute(
        update(PushSubscription).where(PushSubscription.endpoint == endpoint).values(gone_at=now)
    )


def _rest_of_groups(session: Session, rows: list[Row[Any]], now: datetime) -> list[Row[Any]]:
    """Return the members of a multicast group that a batch took only part of.

    A multicast is resent whole with its retry key, or LINE would take a part for all of it.
    """
    taken = {row.id for row in rows}
    shared = {row.retry_key for row in rows if row.kind == "line" and row.attempts > 0}
    if not shared:
        return []
    rest = session.execute(
        select(*_CLAIMED_COLUMNS).where(
            Message.retry_key.in_(shared),
            (Message.status == "queued")
            | (Message.status == "sending") & (Message.lease_until < now),
        )
    )
    return [row for row in rest if row.id not in taken]


def _bulk_update(session: Session, changes: list[dict[str, Any]]) -> None:
    """Apply per-message changes by primary key, one executemany per shape of change."""
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for change in changes:
        shapes.setdefault(tuple(sorted(change)), []).append(change)
    table = cast(Table, Message.__table__)
    for keys, rows in shapes.items():
        columns = [key for key in keys if key != "id"]
        statement = (
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values({key: bindparam(f"_{key}") for key in columns})
        )
        session.execute(statement, [{f"_{k}": v for k, v in row.items()} for row in rows])


def _group(claimed: list[_Claimed]) -> list[list[_Claimed]]:
    groups: dict[str, list[_Claimed]] = {}
    for item in claimed:
        groups.setdefault(f"{item.channel_id}:{item.retry_key}", []).append(item)
    return list(groups.values())
