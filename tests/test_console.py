"""The console's built assets are served at /, with the single-page app's fallback."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from sampan.api.console import add_console
from tests.conftest import Workspace


def _app(directory: Path) -> TestClient:
    app = FastAPI()

    @app.get("/api/ping")
    def ping() -> dict[str, str]:
        return {"pong": "yes"}

    add_console(app, directory)
    return TestClient(app)


def test_built_files_are_served_and_other_paths_get_the_app(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<html>คอนโซล</html>", encoding="utf-8")
    (tmp_path / "assets" / "app-1a2b.js").write_text("console.log(1)")
    client = _app(tmp_path)
    home = client.get("/")
    assert home.status_code == 200
    assert "คอนโซล" in home.text
    assert home.headers["cache-control"] == "no-cache"
    asset = client.get("/assets/app-1a2b.js")
    assert asset.status_code == 200
    assert "immutable" in asset.headers["cache-control"]
    deep = client.get("/customers/prf_123")
    assert deep.status_code == 200
    assert "คอนโซล" in deep.text
    assert client.get("/api/ping").json() == {"pong": "yes"}
    assert client.get("/api/nope").status_code == 404
    assert client.get("/v1/nope").status_code == 404
    outside = client.get("/..%2f..%2fetc%2fpasswd")
    assert outside.status_code == 200
    assert "คอนโซล" in outside.text  # never a file outside the build


def test_without_a_build_the_root_says_how_to_make_one(tmp_path: Path) -> None:
    client = _app(tmp_path / "missing")
    answer = client.get("/")
    assert answer.status_code == 503
    assert "make demo" in answer.text


def test_the_real_app_keeps_api_404s_as_json(workspace: Workspace) -> None:
    missing = workspace.client.get("/api/does-not-exist", headers=workspace.auth)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Not Found"}
    assert workspace.client.get("/").status_code in (200, 503)
