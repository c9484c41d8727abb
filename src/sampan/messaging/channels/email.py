"""E-mail channel: send one rendered message over SMTP, reusing a few open connections."""

from __future__ import annotations

import contextlib
import functools
import smtplib
import socket
import ssl
import threading
from collections.abc import Mapping
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import formatdate
from pathlib import Path
from typing import Any, Literal

import email_validator
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from sampan.messaging.channels.base import (
    ContentError,
    Delivery,
    Envelope,
    PermanentError,
    TransientError,
)

KIND = "email"

_MAX_LINE = 998  # RFC 5322 hard limit on a line


# Headers the adapter writes itself; an envelope header may not replace them.
_RESERVED_HEADERS = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "subject",
        "date",
        "message-id",
        "reply-to",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        "x-sampan-message-id",
    }
)


class _MailPolicy(EmailPolicy):
    """SMTP policy that writes the envelope's own ASCII headers as given.

    Python folds a long header without spaces into RFC 2047 encoded words, which turns a long
    List-Unsubscribe URL into ``=?utf-8?q?=3Chttps...?=`` that no mailbox provider parses.
    """

    def fold_binary(self, name: str, value: Any) -> bytes:
        """Write headers the envelope supplied on one line; fold the rest as usual."""
        text = str(value)
        if (
            name.lower() not in _RESERVED_HEADERS
            and text.isascii()
            and len(name) + len(text) + 2 <= _MAX_LINE
        ):
            return f"{name}: {text}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


# 7bit makes the body base64 or quoted-printable, so no relay needs 8BITMIME.
_POLICY = _MailPolicy(linesep="\r\n", cte_type="7bit")
_POLICY_UTF8 = _MailPolicy(linesep="\r\n", utf8=True)
# Errors that mean "this socket is dead", as opposed to an SMTP reply.
_CONNECTION_ERRORS = (smtplib.SMTPServerDisconnected, OSError)


class Config(BaseModel):
    """How to reach the SMTP relay and who the mail is from."""

    model_config = ConfigDict(extra="forbid")

    host: str
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    from_address: str
    from_name: str | None = None
    reply_to: str | None = None
    timeout_seconds: float = Field(default=30.0, gt=0)
    verify_tls: bool = True
    ca_file: str | None = None
    # Name sent in EHLO; None uses this machine's FQDN.
    helo_name: str | None = None
    max_connections: int = Field(default=4, ge=1, le=100)

    @field_validator("host")
    @classmethod
    def _host_is_a_name(cls, value: str) -> str:
        value = value.strip()
        if not value or any(ch.isspace() for ch in value):
            raise ValueError(f"host {value!r} is not a host name: expected e.g. 'smtp.example.com'")
        return value

    @field_validator("from_address", "reply_to")
    @classmethod
    def _is_email_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            email_validator.validate_email(value, check_deliverability=False)
        except email_validator.EmailNotValidError as exc:
            raise ValueError(f"{value!r} is not a valid e-mail address: {exc}") from exc
        return value

    @field_validator("from_name")
    @classmethod
    def _from_name_is_one_line(cls, value: str | None) -> str | None:
        if value is not None and ("\r" in value or "\n" in value):
            raise ValueError("from_name must not contain line breaks")
        return value

    @field_validator("ca_file")
    @classmethod
    def _ca_file_exists(cls, value: str | None) -> str | None:
        if value is not None and not Path(value).is_file():
            raise ValueError(f"ca_file {value!r} does not exist or is not a file")
        return value

    @model_validator(mode="after")
    def _credentials_come_in_pairs(self) -> Config:
        if (self.username is None) != (self.password is None):
            missing = "password" if self.password is None else "username"
            raise ValueError(f"username and password must be given together: {missing} is missing")
        return self


def check_content(content: Mapping[str, Any]) -> None:
    """Raise ContentError unless ``content`` is ``{"subject", "text", "html"?}`` we can send."""
    if not isinstance(content, Mapping):
        raise ContentError(f"content must be an object, got {type(content).__name__}")
    unknown = sorted(set(content) - {"subject", "text", "html"})
    if unknown:
        raise ContentError(f"content has unknown fields {unknown}: expected subject, text, html")
    subject = content.get("subject")
    if not isinstance(subject, str):
        raise ContentError("subject is required and must be a string")
    if not subject.strip():
        raise ContentError("subject must not be empty")
    if "\r" in subject or "\n" in subject:
        raise ContentError("subject must not contain line breaks (CR or LF)")
    text = content.get("text")
    if not isinstance(text, str):
        raise ContentError("text is required and must be a string")
    if not text.strip():
        raise ContentError("text must not be empty")
    html = content.get("html")
    if html is not None and not isinstance(html, str):
        raise ContentError(f"html must be a string or null, got {type(html).__name__}")


class Adapter:
    """Send e-mail through one SMTP relay, keeping up to ``max_connections`` open."""

    idempotent = False
    max_recipients = 1

    def __init__(self, config: Config) -> None:
        self._config = config
        self._domain = config.from_address.rpartition("@")[2]
        self._helo_name = config.helo_name
        self._slots = threading.BoundedSemaphore(config.max_connections)
        self._idle: list[smtplib.SMTP] = []
        self._idle_lock = threading.Lock()

    @functools.cached_property
    def _tls(self) -> ssl.SSLContext:
        # Made on first use: loading the trusted certificates takes milliseconds, and a
        # relay without TLS never needs them.
        return _tls_context(self._config)

    def send(self, envelope: Envelope) -> Delivery:
        """Deliver ``envelope`` to its one recipient; raise TransientError or PermanentError."""
        if len(envelope.to) != 1:
            raise PermanentError(
                f"an e-mail envelope carries exactly one recipient, got {len(envelope.to)}"
            )
        to = envelope.to[0]
        try:
            email_validator.validate_email(to, check_deliverability=False)
        except email_validator.EmailNotValidError as exc:
            raise PermanentError(f"recipient {to!r} is not a valid e-mail address: {exc}") from exc
        try:
            check_content(envelope.content)
        except ContentError as exc:
            raise PermanentError(f"content cannot be sent: {exc}") from exc
        international = not (self._config.from_address + to).isascii()
        message = self._build(envelope, to)
        data = message.as_bytes(policy=_POLICY_UTF8 if international else _POLICY)
        message_id = str(message["Message-ID"])

        with self._slots:
            reply = self._send_on_pool(to, data, international)
        return Delivery(provider_message_id=message_id, detail={"smtp_reply": reply})

    def close(self) -> None:
        """Say QUIT on every idle connection."""
        with self._idle_lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            _quit(conn)

    def _build(self, envelope: Envelope, to: str) -> EmailMessage:
        config = self._config
        content = envelope.content
        message = EmailMessage(policy=_POLICY)
        message["From"] = Address(
            display_name=config.from_name or "", addr_spec=config.from_address
        )
        message["To"] = to
        if config.reply_to:
            message["Reply-To"] = config.reply_to
        message["Subject"] = content["subject"]
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = f"<{envelope.message_id}@{self._domain}>"
        message["X-Sampan-Message-Id"] = envelope.message_id
        for name, value in envelope.headers.items():
            if name.lower() in _RESERVED_HEADERS:
                raise PermanentError(f"header {name!r} is set by the e-mail adapter itself")
            if "\r" in value or "\n" in value:
                raise PermanentError(f"header {name!r} must not contain line breaks")
            message[name] = value
        message.set_content(content["text"])
        if content.get("html"):
            message.add_alternative(content["html"], subtype="html")
        return message

    def _send_on_pool(self, to: str, data: bytes, international: bool) -> str:
        conn, reused = self._checkout()
        try:
            try:
                reply = _transmit(conn, self._config.from_address, to, data, international)
            except _StaleConnection:
                if not reused:
                    raise
                # The relay closed an idle connection (timeout, restart); nothing was accepted
                # yet, so one retry on a fresh connection cannot duplicate the mail.
                _discard(conn)
                conn = self._connect()
                reply = _transmit(conn, self._config.from_address, to, data, international)
        except _StaleConnection as exc:
            _discard(conn)
            raise TransientError(f"SMTP server {self._where} closed the connection: {exc}") from exc
        except _BrokenDuringData as exc:
            _discard(conn)
            raise TransientError(
                f"SMTP server {self._where} dropped the connection during DATA: {exc}",
                in_doubt=True,
            ) from exc
        except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as exc:
            self._checkin_after_refusal(conn)
            raise _error(exc, self._where) from exc
        except (smtplib.SMTPException, OSError) as exc:
            _discard(conn)
            raise _error(exc, self._where) from exc
        except BaseException:
            _discard(conn)
            raise
        self._checkin(conn)
        return reply

    @property
    def _where(self) -> str:
        return f"{self._config.host}:{self._config.port}"

    def _checkout(self) -> tuple[smtplib.SMTP, bool]:
        with self._idle_lock:
            if self._idle:
                return self._idle.pop(), True
        return self._connect(), False

    def _checkin(self, conn: smtplib.SMTP) -> None:
        with self._idle_lock:
            self._idle.append(conn)

    def _checkin_after_refusal(self, conn: smtplib.SMTP) -> None:
        # A refused MAIL/RCPT/DATA leaves the session usable once it is reset.
        try:
            code, _ = conn.rset()
        except (smtplib.SMTPException, OSError):
            _discard(conn)
            return
        if code == 250:
            self._checkin(conn)
        else:
            _discard(conn)

    def _connect(self) -> smtplib.SMTP:
        config = self._config
        if self._helo_name is None:
            # smtplib would resolve the FQDN on every connect; once is enough.
            self._helo_name = socket.getfqdn()
        conn: smtplib.SMTP | None = None
        try:
            if config.security == "ssl":
                conn = smtplib.SMTP_SSL(
                    config.host,
                    config.port,
                    local_hostname=self._helo_name,
                    timeout=config.timeout_seconds,
                    context=self._tls,
                )
            else:
                conn = smtplib.SMTP(
                    config.host,
                    config.port,
                    local_hostname=self._helo_name,
                    timeout=config.timeout_seconds,
                )
            conn.ehlo()
            if config.security == "starttls":
                if not conn.has_extn("starttls"):
                    raise PermanentError(
                        f"SMTP server {self._where} does not offer STARTTLS; "
                        "set security to 'ssl' or 'none' if that is intended"
                    )
                conn.starttls(context=self._tls)
                conn.ehlo()
            if config.username is not None and config.password is not None:
                self._login(conn, config.username, config.password.get_secret_value())
        except PermanentError:
            _discard(conn)
            raise
        except (smtplib.SMTPException, OSError) as exc:
            _discard(conn)
            raise _error(exc, self._where) from exc
        return conn

    def _login(self, conn: smtplib.SMTP, username: str, password: str) -> None:
        if not conn.has_extn("auth"):
            raise PermanentError(
                f"SMTP server {self._where} does not offer AUTH on this connection "
                f"(security={self._config.security!r}); it may require TLS first"
            )
        try:
            conn.login(username, password)
        except smtplib.SMTPAuthenticationError as exc:
            text = _reply_text(exc.smtp_error)
            if 400 <= exc.smtp_code < 500:
                raise TransientError(
                    f"SMTP server {self._where} could not authenticate now: {exc.smtp_code} {text}",
                    status=exc.smtp_code,
                ) from exc
            raise PermanentError(
                f"SMTP server {self._where} rejected the username/password for "
                f"{username!r}: {exc.smtp_code} {text}",
                status=exc.smtp_code,
            ) from exc


class _StaleConnection(Exception):
    """The connection broke before the relay accepted anything."""


class _BrokenDuringData(Exception):
    """The connection broke after the message was sent: the relay may have accepted it."""


def _transmit(conn: smtplib.SMTP, sender: str, to: str, data: bytes, international: bool) -> str:
    options: list[str] = []
    if international:
        if not conn.has_extn("smtputf8"):
            raise PermanentError(
                f"address {to!r} or the sender is not ASCII and the SMTP server "
                "does not offer SMTPUTF8"
            )
        options = ["SMTPUTF8", "BODY=8BITMIME"]
    try:
        code, resp = conn.mail(sender, options)
    except _CONNECTION_ERRORS as exc:
        raise _StaleConnection(str(exc) or type(exc).__name__) from exc
    if code == 421:
        # 421 is the relay saying goodbye (idle timeout, shutdown) before the command ran.
        raise _StaleConnection(f"{code} {_reply_text(resp)}")
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, resp, sender)
    code, resp = conn.rcpt(to)
    if code not in (250, 251):
        raise smtplib.SMTPRecipientsRefused({to: (code, resp)})
    try:
        code, resp = conn.data(data)
    except _CONNECTION_ERRORS as exc:
        raise _BrokenDuringData(str(exc) or type(exc).__name__) from exc
    if code != 250:
        raise smtplib.SMTPDataError(code, resp)
    return _reply_text(resp)


def _error(exc: BaseException, where: str) -> TransientError | PermanentError:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        to, (code, resp) = next(iter(exc.recipients.items()))
        return _classify(
            code, f"SMTP server {where} refused recipient {to!r}: {code} {_reply_text(resp)}"
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        text = _reply_text(exc.smtp_error)
        return _classify(exc.smtp_code, f"SMTP server {where} answered {exc.smtp_code} {text}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return PermanentError(
            f"TLS certificate of SMTP server {where} could not be verified: {exc.verify_message}; "
            "set ca_file to the CA that signed it"
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return PermanentError(f"SMTP server {where} does not support what we asked: {exc}")
    if isinstance(exc, TimeoutError):
        return TransientError(f"SMTP server {where} timed out: {exc}")
    if isinstance(exc, smtplib.SMTPServerDisconnected | OSError):
        return TransientError(f"cannot talk to SMTP server {where}: {exc}")
    return PermanentError(f"SMTP server {where} failed: {exc}")


def _classify(code: int, message: str) -> TransientError | PermanentError:
    """Map an SMTP reply code: 4xx (and unreadable replies) may pass, 5xx will not."""
    if 400 <= code < 500:
        return TransientError(message, status=code)
    if code < 200:
        return TransientError(message)
    return PermanentError(message, status=code)


def _reply_text(resp: bytes | str) -> str:
    if isinstance(resp, bytes):
        return resp.decode("utf-8", "replace")
    return resp


def _tls_context(config: Config) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=config.ca_file)
    if not config.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _discard(conn: smtplib.SMTP | None) -> None:
    if conn is None:
        return
    with contextlib.suppress(OSError):
        conn.close()


def _quit(conn: smtplib.SMTP) -> None:
    try:
        conn.quit()
    except (smtplib.SMTPException, OSError):
        _discard(conn)
