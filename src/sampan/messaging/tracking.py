"""What happens after a send: opens, clicks, provider receipts, and customers writing back.

Everything is written as tracking events on the person's profile (through the event log,
keyed so a repeated pixel load or webhook redelivery records nothing twice) and onto the
message row, where campaign results read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature
from sqlalchemy import select
from sqlalchemy.orm import Session

from sampan.core.errors import InvalidInput, NotFound
from sampan.messaging.channels.base import InboundEvent
from sampan.messaging.dispatch import SOURCE_KIND, TrackedEvent, about, track
from sampan.messaging.models import Channel, Message, ReplyToken
from sampan.messaging.outbox import tracking_serializer
from sampan.messaging.schemas import MessagingRules, ReceiptInput

# A message from a customer within this long after ours counts as a reply to it.
REPLY_WINDOW = timedelta(days=7)
_USER_TRAIT = {"line": "line_user_id", "facebook": "facebook_psid"}
_RECEIPT_EVENT = {
    "delivered": "Message Delivered",
    "bounced": "Message Bounced",
    "failed": "Message Failed",
}


def _decode(session: Session, token: str) -> tuple[Message, int]:
    try:
        message_id, index = tracking_serializer(session).loads(token)
    except (BadSignature, ValueError, TypeError):
        raise NotFound("this link is not one Sampan made") from None
    message = session.get(Message, message_id)
    if message is None or not isinstance(index, int):
        raise NotFound("this link's message no longer exists")
    return message, index


def record_open(session: Session, *, token: str, rules: MessagingRules) -> None:
    """Record the first open of an e-mail (the pixel); later loads change nothing."""
    message, _ = _decode(session, token)
    now = rules.clock()
    if message.opened_at is None:
        message.opened_at = now
    _track_about(session, message, "Email Opened", {}, f"{message.id}:opened", now)


def record_click(session: Session, *, token: str, rules: MessagingRules) -> str:
    """Record a click on a wrapped link and return where it goes."""
    message, index = _decode(session, token)
    if not 0 <= index < len(message.links):
        raise NotFound("this link's target is unknown")
    url = str(message.links[index])
    now = rules.clock()
    if message.clicked_at is None:
        message.clicked_at = now
    if message.kind == "email" and message.opened_at is None:
        # A click proves the e-mail was opened, also when the client blocked the pixel.
        message.opened_at = now
    event_id = f"{message.id}:click:{index}:{int(now.timestamp())}"
    _track_about(session, message, "Link Clicked", {"url": url, "link": index}, event_id, now)
    return url


def record_receipt(session: Session, *, receipt: ReceiptInput, rules: MessagingRules) -> Message:
    """Apply a provider's delivery report or bounce to the message it names."""
    channel = session.scalar(select(Channel).where(Channel.name == receipt.channel))
    if channel is None:
        raise NotFound(f"channel '{receipt.channel}' does not exist")
    message = session.scalar(
        select(Message).where(
            Message.channel_id == channel.id,
            Message.provider_message_id == receipt.provider_message_id,
        )
    )
    if message is None:
        raise NotFound(
            f"no message sent through '{receipt.channel}' has provider id "
            f"'{receipt.provider_message_id}'"
        )
    if message.status not in ("sent", "delivered", "bounced", "failed"):
        raise InvalidInput(f"message '{message.id}' is {message.status}, not sent yet")
    at = receipt.at or rules.clock()
    if message.status != receipt.status:
        message.status = receipt.status
        message.reason = receipt.reason
        if receipt.status == "delivered":
            message.delivered_at = at
        else:
            message.finished_at = at
    props: dict[str, Any] = {"reason": receipt.reason} if receipt.reason else {}
    event_id = f"{message.id}:{receipt.status}"
    _track_about(session, message, _RECEIPT_EVENT[receipt.status], props, event_id, at)
    return message


def record_inbound(
    session: Session,
    *,
    channel: Channel,
    events: Sequence[InboundEvent],
    rules: MessagingRules,
) -> int:
    """Turn a verified webhook's events into tracking events, consents and replies."""
    trait = _USER_TRAIT[channel.kind]
    label = "LINE" if channel.kind == "line" else "Messenger"
    now = rules.clock()
    tracked: list[TrackedEvent] = []
    for event in events:
        subject = {
            "anonymousId": event.channel_user_id,
            "externalIds": [{"type": trait, "id": event.channel_user_id}],
        }
        props: dict[str, Any] = {"channelName": channel.name}
        if event.kind in ("follow", "unfollow"):
            followed = event.kind == "follow"
            name = f"{label} {'Followed' if followed else 'Unfollowed'}"
            tracked.append((channel.id, name, subject, props, f"{event.event_id}:{event.kind}"))
            # Following the official account is the opt-in to its messages; blocking it
            # withdraws that consent.
            change = {
                "purpose": "marketing",
                "channel": channel.kind,
                "status": "granted" if followed else "withdrawn",
            }
            tracked.append(
                (channel.id, "Consent Updated", subject, change, f"{event.event_id}:consent")
            )
        elif event.kind == "message":
            props["text"] = event.text
            tracked.append(
                (channel.id, "Message Received", subject, props, f"{event.event_id}:received")
            )
            if event.reply_token:
                _keep_reply_token(session, channel.id, event, now)
            replied = _replied_to(session, channel.id, event.channel_user_id, now)
            if replied is not None:
                if replied.replied_at is None:
                    replied.replied_at = now
                tracked.append(
                    (
                        channel.id,
                        "Message Replied",
                        subject,
                        {**about(replied), "text": event.text},
                        f"{event.event_id}:replied",
                    )
                )
        elif event.kind == "postback":
            props["data"] = event.postback_data
            tracked.append(
                (channel.id, f"{label} Postback", subject, props, f"{event.event_id}:postback")
            )
            if event.reply_token:
                _keep_reply_token(session, channel.id, event, now)
    track(session, tracked, {channel.id: (channel.source_id, _source_kind(channel))}, now)
    return len(tracked)


def _source_kind(channel: Channel) -> str:
    return SOURCE_KIND.get(channel.kind, "server")


def _track_about(
    session: Session,
    message: Message,
    name: str,
    extra: dict[str, Any],
    event_id: str,
    at: datetime,
) -> None:
    channel = session.get(Channel, message.channel_id) if message.channel_id else None
    if channel is None:
        return
    track(
        session,
        [(channel.id, name, message.subject, {**about(message), **extra}, event_id)],
        {channel.id: (channel.source_id, _source_kind(channel))},
        at,
    )


def _keep_reply_token(
    session: Session, channel_id: str, event: InboundEvent, now: datetime
) -> None:
    user_id, token = event.channel_user_id, event.reply_token or ""
    row = session.get(ReplyToken, (channel_id, user_id))
    if row is None:
        session.add(
            ReplyToken(channel_id=channel_id, channel_user_id=user_id, token=token, received_at=now)
        )
    else:
        row.token, row.received_at = token, now


def _replied_to(session: Session, channel_id: str, user_id: str, now: datetime) -> Message | None:
    return session.scalar(
        select(Message)
        .where(
            Message.channel_id == channel_id,
            Message.address == user_id,
            Message.sent_at > now - REPLY_WINDOW,
        )
        .order_by(Message.sent_at.desc())
        .limit(1)
    )
