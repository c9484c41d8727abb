"""``sampan consent``, ``sampan dsar`` and ``sampan retention`` run as real processes."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from sampan.identity import service as identity
from sampan.runtime import Runtime
from sampan.settings import Settings
from tests.cli.test_cli import json_of, sampan


def _profile_of(data_dir: Path, email: str) -> str:
    runtime = Runtime.from_settings(Settings(data_dir=data_dir))
    try:
        with runtime.db.reading() as session:
            found = identity.find_profile_ids(
                session,
                identifiers=[identity.normalise_identifier("email", email, runtime.rules)],
            )
    finally:
        runtime.dispose()
    assert len(found) == 1
    return found[0]


def test_a_person_is_imported_exported_and_erased_from_the_shell(tmp_path: Path) -> None:
    json_of(sampan("init", "--json", data_dir=tmp_path))
    csv_file = tmp_path / "consents.csv"
    csv_file.write_text(
        "email,purpose,channel,status\nวิไล@example.com,marketing,email,granted\n"
        "wilai@example.com,analytics,,granted\n",
        encoding="utf-8",
    )
    imported = json_of(sampan("consent", "import", str(csv_file), "--json", data_dir=tmp_path))
    assert imported["rows"] == 2
    pid = _profile_of(tmp_path, "wilai@example.com")

    opened = json_of(
        sampan(
            "dsar",
            "open",
            "--type",
            "access",
            "--profile",
            pid,
            "--requester",
            "คุณวิไล",
            "--json",
            data_dir=tmp_path,
        )
    )
    listed = json_of(sampan("dsar", "list", "--json", data_dir=tmp_path))
    assert [item["id"] for item in listed["items"]] == [opened["id"]]

    archive_path = tmp_path / "export.zip"
    exported = sampan("dsar", "export", opened["id"], "--out", str(archive_path), data_dir=tmp_path)
    assert exported.returncode == 0, exported.stderr
    archive = zipfile.ZipFile(io.BytesIO(archive_path.read_bytes()))
    assert json.loads(archive.read("consents.json"))[0]["purpose"] == "analytics"

    not_erasure = sampan("dsar", "erase", opened["id"], "--yes", data_dir=tmp_path)
    assert not_erasure.returncode == 1
    assert "erase fulfils erasure requests only" in " ".join(not_erasure.stdout.split())
    refused = sampan("dsar", "erase", pid, data_dir=tmp_path)
    assert refused.returncode == 2
    erased = json_of(sampan("dsar", "erase", pid, "--yes", "--json", data_dir=tmp_path))
    assert erased["removed"]["identity.identities"] >= 1
    again = sampan("dsar", "erase", pid, "--yes", data_dir=tmp_path)
    assert again.returncode == 1
    assert "already erased" in again.stdout

    run = json_of(sampan("retention", "run", "--json", data_dir=tmp_path))
    assert run["removed"] == {"raw_events": 0, "inactive_profiles": 0, "messages": 0}
    shown = json_of(sampan("retention", "show", "--json", data_dir=tmp_path))
    assert len(shown["runs"]) == 1
