"""The console in a real browser: chromium driven by playwright-core against a demo server.

The browser tests themselves are JavaScript (``tests/e2e/*.test.mjs``, run by node's test
runner). This module starts ``sampan demo`` on a fresh workspace with a small demo shop,
runs them against it and fails with their output. ``make test`` builds the console and
installs chromium first; run directly without them, the test is skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sampan.cli.demo import DEMO_PASSWORD
from tests.conftest import free_port
from tests.messaging.servers.smtp import SmtpServer

E2E = Path(__file__).resolve().parent
ROOT = E2E.parent.parent
WEBUI = ROOT / "src" / "sampan" / "webui" / "index.html"
SCREENSHOTS = ROOT / "docs" / "screenshots"


def _missing() -> str | None:
    if shutil.which("chromium") is None:
        return "chromium is not installed (make test installs it)"
    if not (E2E / "node_modules" / "playwright-core").is_dir():
        return "playwright-core is not installed in tests/e2e (make test runs npm ci)"
    if not WEBUI.is_file():
        return "the console is not built (make web)"
    return None


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    reason = _missing()
    if reason is not None:
        pytest.skip(reason)
    data_dir = tmp_path_factory.mktemp("demo")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMPAN_")}
    env["SAMPAN_DATA_DIR"] = str(data_dir)
    # The browser tests log in many times a minute from one address, as no real user does.
    env["SAMPAN_LOGIN_ATTEMPTS_PER_MINUTE"] = "1000"
    sampan = Path(sys.executable).with_name("sampan")
    process = subprocess.Popen(
        [str(sampan), "demo", "--customers", "150", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    seen = []
    deadline = time.monotonic() + 600
    try:
        for line in process.stdout:
            seen.append(line)
            if line.startswith("Users"):
                break
            if time.monotonic() > deadline:
                raise AssertionError("the demo did not get ready:\n" + "".join(seen))
        else:
            raise AssertionError("the demo stopped:\n" + "".join(seen))
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def smtp_inbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SmtpServer, Path]]:
    """A loopback SMTP relay; every message it accepts is written to the inbox directory.

    The browser tests point the demo's e-mail channel at it and read the files (``1.eml``,
    ``2.eml``...) to see what a campaign really sent.
    """
    inbox = tmp_path_factory.mktemp("inbox")
    stop = threading.Event()
    with SmtpServer() as server:

        def keep() -> None:
            written = 0
            while not stop.wait(0.1):
                for mail in server.messages[written:]:
                    written += 1
                    (inbox / f"{written}.eml.part").write_bytes(mail.raw)
                    (inbox / f"{written}.eml.part").rename(inbox / f"{written}.eml")

        writer = threading.Thread(target=keep, daemon=True)
        writer.start()
        yield server, inbox
        stop.set()
        writer.join()


def test_the_console_works_in_chromium(demo_url: str, smtp_inbox: tuple[SmtpServer, Path]) -> None:
    smtp, inbox = smtp_inbox
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tests = sorted(str(path) for path in E2E.glob("*.test.mjs"))
    assert tests
    result = subprocess.run(
        ["node", "--test", "--test-concurrency=1", *tests],
        cwd=E2E,
        env=os.environ
        | {
            "SAMPAN_URL": demo_url,
            "SAMPAN_PASSWORD": DEMO_PASSWORD,
            "SCREENSHOTS": str(SCREENSHOTS),
            "CHROMIUM": shutil.which("chromium") or "chromium",
            "SMTP_HOST": smtp.host,
            "SMTP_PORT": str(smtp.port),
            "SMTP_INBOX": str(inbox),
        },
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-20_000:] + result.stderr[-5_000:]
