"""Sending what the outbox holds: claim, re-check policies, send, record; crash-safe.

A claim marks messages ``sending`` with a lease and commits before any provider is called.
If the process dies mid-send, the lease runs out: on a channel whose provider drops resends
of the same retry key (LINE, outgoing webhooks) the message is sent again with that key, so
it arrives once; elsewhere it is failed as *in doubt*, never sent twice. Messages of those
other channels are claimed only as send threads free up, and their results commit as they
come, so at most the sends truly in flight can be in doubt.
"""

from __future__ import annotations

import functools
import math
import queue
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import orjson
import structlog
from sqlalchemy import (
    JSON,
    ColumnElement,
    Integer,
    Row,
    Select,
    Table,
    Update,
    bindparam,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.orm import Session

from sampan.collect import service as collect
from sampan.consent import service as consent
from sampan.db.base import UTCDateTime
from sampan.db.engine import Database
from sampan.db.lists import one_of
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
# Kinds whose provider drops a resend with the same retry key, and those with no such key.
_SAFE_KINDS = tuple(kind for kind in registry.KINDS if registry.is_idempotent(kind))
_PLAIN_KINDS = tuple(kind for kind in registry.KINDS if kind not in _SAFE_KINDS)
# Within a drain, channel changes and expired leases are looked at this often, not per round.
MAINTAIN_SECONDS = 1.0
# Plain messages are checked this many rounds of send threads ahead...
AHEAD_ROUNDS = 8
# ...and checked again when the look-ahead is older than this.
AHEAD_SECONDS = 2.0
# A lane (idempotent or plain channels) that had nothing due is not looked at again for
# this long within a drain; the next drain looks at once.
IDLE_LANE_SECONDS = 0.25


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


_MESSAGES = cast(Table, Message.__table__)
# Claim queued messages by id if they are still queued and due. The columns are wrapped in
# functions so that SQLite finds the rows by key: on plain columns it would walk the
# (status, due_at) index over every queued message.
_TAKE_QUEUED = (
    update(_MESSAGES)
    .where(
        _MESSAGES.c.id.in_(bindparam("ids", expanding=True)),
        func.coalesce(_MESSAGES.c.status, "") == "queued",
        func.coalesce(_MESSAGES.c.due_at, bindparam("now", type_=UTCDateTime()))
        <= bindparam("now", type_=UTCDateTime()),
    )
    .values(
        status="sending",
        lease_until=bindparam("lease", type_=UTCDateTime()),
        attempts=_MESSAGES.c.attempts + 1,
    )
    .returning(_MESSAGES.c.id)
)

# Where a provider answered 409 to a retry key: LINE already had the message.
ALREADY_SENT = "the provider already had it (same retry key)"


@functools.cache
def _mark_sent(dialect: str) -> Update:
    """Return the UPDATE that marks many messages sent at once.

    Its rows ([id, provider message id, units, reason]) travel as one JSON array that the
    database unpacks; an executemany would run SQLAlchemy's parameter processing for each.
    """
    unpack = "json_array_elements" if dialect == "postgresql" else "json_each"
    rows = getattr(func, unpack)(bindparam("rows", type_=JSON)).table_valued("value", name="sent")

    value: ColumnElement[Any] = rows.c.value

    def field(index: int) -> ColumnElement[Any]:
        return value.op("->>")(index)

    where = [_MESSAGES.c.id == field(0)]
    if dialect == "postgresql":
        # The id list lets PostgreSQL find the rows by key; joining on the unpacked rows
        # alone, it scans the whole outbox. SQLite already looks each row up by key, and
        # with the list would unpack the rows again for every id.
        where.append(one_of(_MESSAGES.c.id, "ids", dialect=dialect))
    return (
        update(_MESSAGES)
        .where(*where)
        .values(
            status="sent",
            sent_at=bindparam("now", type_=UTCDateTime()),
            lease_until=None,
            provider_message_id=field(1),
            units=field(2).cast(Integer),
            reason=field(3),
        )
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
    # The retry key as stored, before a reply or a multicast changed it.
    original_key: str
    attempts: int
    subject: dict[str, Any]
    campaign_id: str | None
    variant: str | None
    # Claimed from ``queued``, not taken over from a sender whose lease ran out.
    queued: bool
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
        batch_size: int = 500,
    ) -> None:
        self.db = db
        self.rules = rules
        self.catalog = catalog
        self.batch_size = batch_size
        # What one claim of idempotent messages takes: the batch size, or less when a slow
        # rate-limited channel could not send two batches within half a lease.
        self._claim_size = batch_size
        self.threads = threads
        self._senders = _Senders(threads, self._send)
        self._live: dict[str, _Live] = {}
        self._channels_at = -math.inf
        self._swept_at: datetime | None = None
        self._ahead: list[_Claimed] = []
        self._ahead_at = -math.inf
        self._idle_lanes: dict[str, float] = {}

    def close(self) -> None:
        """Stop the send threads and close provider connections."""
        self._senders.close()
        for live in self._live.values():
            live.adapter.close()
        self._live.clear()

    def drain(self, *, limit: int = 1_000_000) -> int:
        """Send until nothing is due; return how many messages were handled.

        One transaction per round records what finished and claims what comes next, so the
        send threads never wait for a round to end. Idempotent messages are claimed a batch
        ahead of those on the wire; the others only as send threads free up, so no more of
        them than there are threads can ever be in doubt.
        """
        total = 0
        wire = _Wire()
        finished: list[_Outcome] = []
        self._ahead = []
        # Each drain starts from the channels and leases as they are now.
        self._channels_at = -math.inf
        self._swept_at = None
        self._idle_lanes.clear()
        while True:
            with self.db.transaction() as session:
                self._record(session, finished)
                claimed = self._claim(
                    session,
                    idempotent=total < limit and wire.idempotent <= self._claim_size,
                    plain_slots=self.threads - wire.plain if total < limit else 0,
                )
            on_wire = wire.idempotent
            for group in _group(claimed):
                wire.add(group)
                self._senders.submit(group)
            total += len(claimed)
            if not wire.groups:
                return total
            full = sum(1 for item in claimed if not _is_plain(item)) == self._claim_size
            if full and on_wire == 0 and total < limit:
                # A full batch just left: claim the next one while it is on the wire.
                finished = []
                continue
            finished = self._senders.land(wire)

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

    def _claim(self, session: Session, *, idempotent: bool, plain_slots: int) -> list[_Claimed]:
        """Claim due messages: a batch of idempotent ones, and plain ones for free threads."""
        now = self.rules.clock()
        self._maintain(session, now)
        claimed: list[_Claimed] = []
        if idempotent and self._worth_a_look("idempotent"):
            # Two queries, since one with OR could not use the (status, due_at) index.
            size = self._claim_size
            rows = _due(session, now, size, plain=False, expired=True)
            rows += _due(session, now, size - len(rows), plain=False, expired=False)
            self._looked("idempotent", found=bool(rows))
            rows += _rest_of_groups(session, rows, now)
            claimed = self._admit(session, rows, now)
            self._line_extras(session, claimed, now)
            _mark_sending(session, claimed, now + self._lease)
        if plain_slots > 0:
            claimed += self._claim_plain(session, plain_slots, now)
        return claimed

    def _claim_plain(self, session: Session, slots: int, now: datetime) -> list[_Claimed]:
        """Claim up to ``slots`` messages of channels without provider idempotency.

        A crash leaves every claimed one in doubt, so only as many as can go on the wire at
        once are claimed. The look-ahead list is checked in bulk (consent, quiet hours) but
        not claimed; another sender may take its rows meanwhile, and then they are skipped.
        """
        stale = time.monotonic() - self._ahead_at > AHEAD_SECONDS
        if (not self._ahead or stale) and self._worth_a_look("plain"):
            rows = _due(session, now, self.threads * AHEAD_ROUNDS, plain=True, expired=False)
            self._looked("plain", found=bool(rows))
            self._ahead = self._admit(session, rows, now)
            self._ahead_at = time.monotonic()
        wanted, self._ahead = self._ahead[:slots], self._ahead[slots:]
        if not wanted:
            return []
        lease_until = now + self._lease
        taken = set(
            session.scalars(
                _TAKE_QUEUED,
                {"ids": [item.id for item in wanted], "now": now, "lease": lease_until},
            )
        )
        return [item for item in wanted if item.id in taken]

    def _worth_a_look(self, lane: str) -> bool:
        return time.monotonic() >= self._idle_lanes.get(lane, -math.inf)

    def _looked(self, lane: str, *, found: bool) -> None:
        """Remember a lane with nothing due, so that busy rounds of the other skip it a while."""
        if found:
            self._idle_lanes.pop(lane, None)
        else:
            self._idle_lanes[lane] = time.monotonic() + IDLE_LANE_SECONDS

    @property
    def _lease(self) -> timedelta:
        return timedelta(seconds=self.rules.lease_seconds)

    def _maintain(self, session: Session, now: datetime) -> None:
        """Now and then: notice channel changes, and fail what a crashed sender left in doubt."""
        if time.monotonic() - self._channels_at >= MAINTAIN_SECONDS:
            self._refresh_channels(session)
            self._channels_at = time.monotonic()
        if (
            self._swept_at is None
            or abs((now - self._swept_at).total_seconds()) >= MAINTAIN_SECONDS
        ):
            _give_up_in_doubt(session, now)
            self._swept_at = now

    def _admit(self, session: Session, rows: list[Row[Any]], now: datetime) -> list[_Claimed]:
        """Re-check due rows; return those that may go now and apply the others' changes."""
        if not rows:
            return []
        allowed, changes = self._recheck(session, rows, now)
        if any(row.channel_id not in self._live for row in allowed):
            # A channel made since the last look, or one switched off.
            self._refresh_channels(session)
        admitted = []
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
            admitted.append(
                _Claimed(
                    id=row.id,
                    channel_id=row.channel_id or "",
                    kind=row.kind or "",
                    address=row.address or "",
                    content=row.content,
                    headers=row.headers,
                    category=row.category,
                    retry_key=row.retry_key,
                    original_key=row.retry_key,
                    attempts=attempts,
                    queued=first,
                    fresh=first and attempts == 1,
                    subject=row.subject,
                    campaign_id=row.campaign_id,
                    variant=row.variant,
                )
            )
        _bulk_update(session, changes)
        return admitted

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
        query = _reply_tokens_query(session.get_bind().dialect.name)
        since = now - timedelta(seconds=REPLY_TOKEN_SECONDS)
        tokens = {
            (t.channel_id, t.channel_user_id): t
            for t in session.execute(query, {"users": [c.address for c in fresh], "since": since})
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
        rates = [
            live.limit.rate
            for live in self._live.values()
            if live.limit is not None and live.row.kind in _SAFE_KINDS
        ]
        quarter_lease = self.rules.lease_seconds / 4
        self._claim_size = min(
            [self.batch_size, *(max(1, int(rate * quarter_lease)) for rate in rates)]
        )

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

    def _record(self, session: Session, outcomes: Sequence[_Outcome]) -> None:
        """Write what came of each send, and a "Message Sent" event for each one sent."""
        if not outcomes:
            return
        now = self.rules.clock()
        rules = self.rules
        sent: list[tuple[_Claimed, Delivery]] = []
        sent_rows: list[list[Any]] = []
        changes: list[dict[str, Any]] = []
        for outcome in outcomes:
            for item in outcome.claimed:
                if outcome.delivery is not None:
                    delivery = outcome.delivery
                    units = delivery.units if len(outcome.claimed) == 1 else 1
                    sent.append((item, delivery))
                    reason = ALREADY_SENT if delivery.duplicate else None
                    sent_rows.append([item.id, delivery.provider_message_id, units, reason])
                    continue
                values: dict[str, Any] = {"lease_until": None}
                error = outcome.error
                if isinstance(error, TransientError) and _in_doubt(item, error):
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
                    retry_after = error.retry_after if isinstance(error, TransientError) else None
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
        if sent_rows:
            dialect = session.get_bind().dialect.name
            ids = [row[0] for row in sent_rows]
            session.execute(_mark_sent(dialect), {"rows": sent_rows, "ids": ids, "now": now})
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
    return error.in_doubt and item.kind in _PLAIN_KINDS


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
    by_source: dict[tuple[str, str], list[collect.AcceptedMessage]] = {}
    for channel_id, name, subject, properties, event_id in events:
        source = sources.get(channel_id)
        if source is None:
            continue
        by_source.setdefault(source, []).append(
            collect.server_track(
                name=name,
                message_id=event_id,
                subject=subject,
                properties=properties,
                source_kind=source[1],
                at=now,
            )
        )
    for (source_id, _), accepted in by_source.items():
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


def _give_up_in_doubt(session: Session, now: datetime) -> None:
    """Fail what a crashed sender claimed on a channel where a resend could repeat it."""
    session.execute(
        update(Message)
        .where(
            Message.status == "sending",
            Message.lease_until < now,
            Message.kind.in_(_PLAIN_KINDS) | Message.retry_key.startswith(REPLIED),
        )
        .values(
            status="failed",
            reason="in doubt: the sender stopped during the send; not retried so that it "
            "cannot arrive twice",
            finished_at=now,
            lease_until=None,
        )
    )


@dataclass
class _Wire:
    """How many messages and envelopes are with the send threads."""

    groups: int = 0
    idempotent: int = 0
    plain: int = 0

    def add(self, group: Sequence[_Claimed]) -> None:
        self._count(group, 1)

    def remove(self, group: Sequence[_Claimed]) -> None:
        self._count(group, -1)

    def _count(self, group: Sequence[_Claimed], sign: int) -> None:
        self.groups += sign
        if _is_plain(group[0]):
            self.plain += sign * len(group)
        else:
            self.idempotent += sign * len(group)


class _Senders:
    """Send threads that take envelopes from one queue and put what came of them on another.

    Plain queues rather than an executor's futures: waiting for the first of hundreds of
    futures costs a lock per future per wait, on the thread that also claims and records.
    """

    def __init__(self, threads: int, send: Callable[[list[_Claimed]], _Outcome]) -> None:
        self._size = threads
        self._send = send
        self._jobs: queue.SimpleQueue[list[_Claimed] | None] = queue.SimpleQueue()
        self._results: queue.SimpleQueue[_Outcome] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []

    def submit(self, group: list[_Claimed]) -> None:
        if not self._threads:
            self._threads = [
                threading.Thread(target=self._run, name=f"sampan-send-{n}", daemon=True)
                for n in range(self._size)
            ]
            for thread in self._threads:
                thread.start()
        self._jobs.put(group)

    def land(self, wire: _Wire) -> list[_Outcome]:
        """Wait until enough sends finished to be worth a round; return them.

        Enough is half of the plain sends (their threads are what the next claim fills), or
        half of the idempotent ones (a batch's worth, since two batches are kept going).
        """
        plain, other = wire.plain, wire.idempotent
        landed: list[_Outcome] = []
        plain_done = other_done = 0
        while wire.groups:
            try:
                outcome = self._results.get(
                    block=not landed or not _enough(plain, plain_done, other, other_done)
                )
            except queue.Empty:
                break
            wire.remove(outcome.claimed)
            landed.append(outcome)
            if _is_plain(outcome.claimed[0]):
                plain_done += len(outcome.claimed)
            else:
                other_done += len(outcome.claimed)
        return landed

    def close(self) -> None:
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join()
        self._threads = []

    def _run(self) -> None:
        while (group := self._jobs.get()) is not None:
            self._results.put(self._send(group))


def _enough(plain: int, plain_done: int, other: int, other_done: int) -> bool:
    return (plain > 0 and plain_done * 2 >= plain) or (other > 0 and other_done * 2 >= other)


def _is_plain(item: _Claimed) -> bool:
    return item.kind in _PLAIN_KINDS


def _mark_sending(session: Session, claimed: list[_Claimed], lease_until: datetime) -> None:
    """Mark claimed messages ``sending`` under a lease; count the attempt of queued ones."""
    dialect = session.get_bind().dialect.name
    for queued in (True, False):
        ids = [item.id for item in claimed if item.queued is queued]
        if ids:
            query = _mark_sending_query(dialect, queued)
            session.execute(query, {"ids": ids, "lease": lease_until})
    _bulk_update(
        session,
        [
            {"id": item.id, "retry_key": item.retry_key}
            for item in claimed
            if item.retry_key != item.original_key
        ],
    )


@functools.cache
def _mark_sending_query(dialect: str, queued: bool) -> Update:
    values: dict[str, Any] = {
        "status": "sending",
        "lease_until": bindparam("lease", type_=UTCDateTime()),
    }
    if queued:
        values["attempts"] = _MESSAGES.c.attempts + 1
    return update(_MESSAGES).where(one_of(_MESSAGES.c.id, "ids", dialect=dialect)).values(values)


def _due(
    session: Session, now: datetime, limit: int, *, plain: bool, expired: bool
) -> list[Row[Any]]:
    """Return up to ``limit`` due messages of one lane: queued, or under an expired lease."""
    if limit <= 0:
        return []
    query = _due_query(session.get_bind().dialect.name, plain=plain, expired=expired)
    return list(session.connection().execute(query, {"now": now, "limit": limit}))


@functools.cache
def _due_query(dialect: str, *, plain: bool, expired: bool) -> Select[Any]:
    now = bindparam("now", type_=UTCDateTime())
    kinds = _MESSAGES.c.kind.in_(_PLAIN_KINDS if plain else _SAFE_KINDS)
    if expired:
        due = (_MESSAGES.c.status == "sending") & (_MESSAGES.c.lease_until < now)
    else:
        due = (_MESSAGES.c.status == "queued") & (_MESSAGES.c.due_at <= now)
    query = (
        select(*(_MESSAGES.c[column.key] for column in _CLAIMED_COLUMNS))
        .where(kinds & due)
        .order_by(_MESSAGES.c.due_at)
        .limit(bindparam("limit"))
    )
    if dialect == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return query


@functools.cache
def _reply_tokens_query(dialect: str) -> Select[str, str, str]:
    return select(ReplyToken.channel_id, ReplyToken.channel_user_id, ReplyToken.token).where(
        one_of(ReplyToken.channel_user_id, "users", dialect=dialect),
        ReplyToken.received_at > bindparam("since", type_=UTCDateTime()),
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
    for keys, rows in shapes.items():
        session.execute(_update_by_id(keys), [{f"_{k}": v for k, v in row.items()} for row in rows])


@functools.cache
def _update_by_id(keys: tuple[str, ...]) -> Update:
    """Return the UPDATE of these columns by id (built once: there are few shapes)."""
    return (
        update(_MESSAGES)
        .where(_MESSAGES.c.id == bindparam("_id"))
        .values({key: bindparam(f"_{key}") for key in keys if key != "id"})
    )


def _group(claimed: list[_Claimed]) -> list[list[_Claimed]]:
    groups: dict[str, list[_Claimed]] = {}
    for item in claimed:
        groups.setdefault(f"{item.channel_id}:{item.retry_key}", []).append(item)
    return list(groups.values())
