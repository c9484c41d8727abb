"""Console: first load of the dashboard in chromium, on the demo data, vs the API call alone.

Starts ``sampan demo`` (5,000 customers by default) on a fresh workspace, then drives
Debian's chromium with playwright-core (``tests/e2e/measure_dashboard.mjs``): in a fresh
browser context each run, already logged in, it opens ``/`` and takes the browser's own
``performance.now()`` when the customer count is on screen: the page's HTML, its scripts,
styles and fonts, the app's start, the session check and the dashboard's figures. That is
done cold (empty cache) and again warm (same context), and the same context then times
``GET /api/analytics/overview`` alone. Ratio = cold first load / the API call. The aim is
a first load under 2 seconds.

Needs the built console (``make web``), chromium and ``tests/e2e/node_modules`` (``make
browser``). Usage: python -m bench.console [--customers 5000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.harness import ROOT, free_port
from sampan.cli.demo import DEMO_PASSWORD

SCRIPT = ROOT / "tests" / "e2e" / "measure_dashboard.mjs"
WEBUI = ROOT / "src" / "sampan" / "webui" / "index.html"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not WEBUI.is_file() or shutil.which("chromium") is None:
        sys.exit("build the console and install chromium first: make web browser")
    with tempfile.TemporaryDirectory(prefix="sampan-console-") as data_dir:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SAMPAN_")}
        env["SAMPAN_DATA_DIR"] = data_dir
        started = time.monotonic()
        demo = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("sampan")),
                "demo",
                "--port",
                str(port),
                "--customers",
                str(args.customers),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            assert demo.stdout is not None
            for line in demo.stdout:
                if line.startswith("Users"):
                    break
            else:
                sys.exit("the demo stopped before it was ready")
            took = time.monotonic() - started
            print(f"demo with {args.customers:,} customers ready in {took:.0f} s")
            result = subprocess.run(
                ["node", str(SCRIPT)],
                cwd=SCRIPT.parent,
                env=os.environ
                | {
                    "SAMPAN_URL": f"http://127.0.0.1:{port}",
                    "SAMPAN_PASSWORD": DEMO_PASSWORD,
                    "RUNS": str(args.runs),
                    "CHROMIUM": shutil.which("chromium") or "chromium",
                },
                capture_output=True,
                text=True,
                check=True,
                timeout=600,
            )
        finally:
            demo.terminate()
            demo.wait(timeout=30)
    report(json.loads(result.stdout.strip().splitlines()[-1]), args.runs)


def report(figures: dict[str, Any], runs: int) -> None:
    """Print medians of the browser's timings and the ratio to the API call alone."""
    cold = figures["cold"]
    warm = figures["warm"]

    def median(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(row[key] for row in rows)

    api = statistics.median(figures["api"])
    print(f"medians of {runs} runs, ms from navigation start (the browser's performance.now())")
    print(f"{'':6} {'HTML':>7} {'DOM ready':>10} {'load':>7} {'figures shown':>14} {'KiB':>7}")
    for name, rows in (("cold", cold), ("warm", warm)):
        kib = median(rows, "transferred") / 1024
        html, dom = median(rows, "response_end"), median(rows, "dom_content_loaded")
        load, ready = median(rows, "load"), median(rows, "ready")
        print(f"{name:6} {html:7.0f} {dom:10.0f} {load:7.0f} {ready:14.0f} {kib:7.0f}")
    first = median(cold, "ready")
    print(f"GET /api/analytics/overview alone: {api:.0f} ms")
    print(
        f"first load of the dashboard: {first:.0f} ms cold, {median(warm, 'ready'):.0f} ms warm; "
        f"ratio to the API call {first / api:.1f}; aim under 2,000 ms: "
        + ("met" if first < 2000 else "NOT met")
    )


if __name__ == "__main__":
    main()
