"""An SMTP relay on loopback (aiosmtpd) that keeps what it received and fails on request.

Supports AUTH, STARTTLS and implicit TLS with a certificate made in-process, counts client
connections, can drop them (to test reconnects) and can answer the next N RCPT or DATA
commands with a chosen code (to test error mapping).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import ipaddress
import shutil
import ssl
import tempfile
import threading
import time
import warnings
from collections import deque
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword, Session
from aiosmtpd.smtp import Envelope as SmtpEnvelope
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.messaging.servers import free_port

Security = Literal["none", "starttls", "ssl"]

_DEFAULT_TEXT = {
    4: "4.3.0 Temporary failure, please try again later",
    5: "5.1.1 Mailbox unavailable",
}


def make_self_signed_cert(directory: Path, hostname: str = "localhost") -> tuple[Path, Path]:
    """Write ``cert.pem`` and ``key.pem`` valid for ``hostname`` and 127.0.0.1; return paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(hostname), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / "cert.pem"
    key_path = directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass(frozen=True)
class ReceivedMail:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    raw: bytes
    authenticated_as: str | None


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(  # noqa: N802 - aiosmtpd hook name
        self,
        smtp: SMTP,
        session: Session,
        envelope: SmtpEnvelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        failure = self.server._take_failure("RCPT")
        if failure is not None:
            return failure
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd hook name
        self, smtp: SMTP, session: Session, envelope: SmtpEnvelope
    ) -> str:
        failure = self.server._take_failure("DATA")
        if failure is not None:
            return failure
        raw = cast(bytes, envelope.original_content or envelope.content)
        message = email.message_from_bytes(raw, policy=policy.default)
        login = session.auth_data.login.decode() if session.auth_data is not None else None
        mail = ReceivedMail(
            mail_from=cast(str, envelope.mail_from),
            rcpt_tos=tuple(envelope.rcpt_tos),
            message=message,
            raw=raw,
            authenticated_as=login,
        )
        with self.server._lock:
            self.server.messages.append(mail)
        return "250 2.0.0 Ok: queued"


class _TrackedSMTP(SMTP):
    """An SMTP session that tells the server when its connection opens and closes."""

    def __init__(self, server: SmtpServer, *args: Any, **kwargs: Any) -> None:
        self._owner = server
        super().__init__(*args, **kwargs)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        upgrade = self._original_transport is not None
        super().connection_made(transport)
        if not upgrade:
            self._owner._opened(self)

    def connection_lost(self, error: Exception | None) -> None:
        self._owner._closed(self)
        super().connection_lost(error)


class SmtpServer:
    """Run an SMTP relay on 127.0.0.1; ``messages`` lists what it accepted, in order."""

    host = "127.0.0.1"

    def __init__(
        self,
        *,
        security: Security = "none",
        username: str | None = None,
        password: str | None = None,
        idle_timeout: float = 300,
        port: int | None = None,
    ) -> None:
        self.security = security
        self.username = username
        self.password = password
        self.port = port or free_port()
        self.messages: list[ReceivedMail] = []
        # Client connections opened since start(), not counting the readiness probe.
        self.connections = 0
        self._lock = threading.Lock()
        self._failures: deque[tuple[str, str]] = deque()
        self._live: set[_TrackedSMTP] = set()
        self._counting = False
        self._cert_dir: Path | None = None
        self.ca_file: str | None = None
        tls: ssl.SSLContext | None = None
        if security != "none":
            self._cert_dir = Path(tempfile.mkdtemp(prefix="sampan-smtp-"))
            cert, key = make_self_signed_cert(self._cert_dir)
            self.ca_file = str(cert)
            tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls.load_cert_chain(cert, key)
        smtp_kwargs: dict[str, Any] = {
            "hostname": "localhost",
            "timeout": idle_timeout,
            "enable_SMTPUTF8": True,
        }
        if security == "starttls":
            smtp_kwargs.update(tls_context=tls, require_starttls=True)
        if username is not None:
            # aiosmtpd only counts STARTTLS as TLS, so AUTH over implicit TLS (and over plain
            # connections, for tests) needs auth_require_tls=False.
            smtp_kwargs.update(
                authenticator=self._authenticate,
                auth_required=True,
                auth_require_tls=security == "starttls",
            )
        self._smtp_kwargs = smtp_kwargs
        self._controller = _Controller(
            self,
            hostname=self.host,
            port=self.port,
            ssl_context=tls if security == "ssl" else None,
        )

    def start(self) -> SmtpServer:
        """Listen until stop()."""
        self._controller.start()
        with self._lock:
            self.connections = 0
            self._counting = True
        return self

    def stop(self) -> None:
        """Close client connections, stop listening and remove the certificate."""
        # aiosmtpd's stop() leaves open sessions' transports behind, unclosed.
        if self.live_connections:
            self.drop_connections()
        self._controller.stop()
        if self._cert_dir is not None:
            shutil.rmtree(self._cert_dir, ignore_errors=True)

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail_next(
        self, n: int, code: int, *, command: Literal["RCPT", "DATA"] = "RCPT", text: str = ""
    ) -> None:
        """Answer the next ``n`` ``command`` commands with ``code`` instead of accepting."""
        reply = f"{code} {text or _DEFAULT_TEXT.get(code // 100, 'Refused')}"
        with self._lock:
            self._failures.extend([(command, reply)] * n)

    def drop_connections(self, timeout: float = 5) -> None:
        """Close every client connection without a goodbye, as a crashed relay would."""

        def close_all() -> None:
            for session in list(self._live):
                transport = session._original_transport or session.transport
                # abort(): close() on a TLS transport waits for the client's close_notify.
                if isinstance(transport, asyncio.Transport):
                    transport.abort()

        self._controller.loop.call_soon_threadsafe(close_all)
        deadline = time.monotonic() + timeout
        while self.live_connections:
            if time.monotonic() > deadline:
                raise RuntimeError("connections did not close")
            time.sleep(0.005)

    @property
    def live_connections(self) -> int:
        """Return how many client connections are open now."""
        with self._lock:
            return len(self._live)

    def _take_failure(self, command: str) -> str | None:
        with self._lock:
            if self._failures and self._failures[0][0] == command:
                return self._failures.popleft()[1]
        return None

    def _authenticate(
        self, smtp: SMTP, session: Session, envelope: SmtpEnvelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = data.login.decode() == self.username and data.password.decode() == self.password
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)

    def _opened(self, session: _TrackedSMTP) -> None:
        with self._lock:
            self._live.add(session)
            if self._counting:
                self.connections += 1

    def _closed(self, session: _TrackedSMTP) -> None:
        with self._lock:
            self._live.discard(session)


class _Controller(Controller):
    def __init__(self, server: SmtpServer, **kwargs: Any) -> None:
        self._server = server
        super().__init__(_Handler(server), **kwargs)

    def factory(self) -> SMTP:
        with warnings.catch_warnings():
            # "Requiring AUTH while not requiring TLS": deliberate for plain-text tests.
            warnings.simplefilter("ignore")
            return _TrackedSMTP(self._server, self.handler, **self._server._smtp_kwargs)
