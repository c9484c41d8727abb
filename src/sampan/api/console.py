"""Serve the web console's built assets at ``/``, with the single-page app's fallback."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, Response

# Built from web/ by `make web` (and by `make demo` when missing or stale).
WEBUI = Path(__file__).resolve().parent.parent / "webui"
# Paths of the API, tracking, webhooks and pages: never answered with the console.
_NOT_CONSOLE = ("api/", "v1/", "webhooks/", "t/", "preferences/", "metrics", "healthz")
_NOT_BUILT = """<!doctype html>
<html lang="th"><head><meta charset="utf-8"><title>Sampan</title></head>
<body style="font-family: sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>Sampan</h1>
<p>The web console is not built yet. Run <code>make demo</code> (or <code>make web</code>),
which builds it from <code>web/</code>; the API is at <a href="/api/docs">/api/docs</a>.</p>
<p>ยังไม่ได้สร้างหน้าคอนโซล: รัน <code>make demo</code> หรือ <code>make web</code></p>
</body></html>
"""


def add_console(app: FastAPI, directory: Path = WEBUI) -> None:
    """Answer GETs outside the API with the console: a built file, else its index.html."""
    root = directory.resolve()

    @app.get("/{path:path}", include_in_schema=False)
    def console(path: str) -> Response:
        if path.startswith(_NOT_CONSOLE):
            raise HTTPException(status_code=404)
        index = root / "index.html"
        if not index.is_file():
            return HTMLResponse(_NOT_BUILT, status_code=503)
        wanted = (root / path).resolve()
        if path and wanted.is_file() and root in wanted.parents:
            # Vite names built assets by their content hash: they never change.
            immutable = wanted.parent.name == "assets"
            cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
            return FileResponse(wanted, headers={"Cache-Control": cache})
        return FileResponse(index, headers={"Cache-Control": "no-cache"})
