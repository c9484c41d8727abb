"""``sampan journeys`` runs as a real process."""

from __future__ import annotations

from pathlib import Path

from sampan.messaging import service as messaging
from sampan.messaging.schemas import ChannelInput
from sampan.runtime import Runtime
from sampan.settings import Settings
from tests.cli.test_cli import json_of, sampan


def _channels(data_dir: Path) -> None:
    runtime = Runtime.from_settings(Settings(data_dir=data_dir))
    try:
        with runtime.db.transaction() as session:
            messaging.create_channel(
                session,
                data=ChannelInput(
                    name="line-oa",
                    kind="line",
                    config={"channel_access_token": "t", "channel_secret": "s"},
                ),
                rules=runtime.messaging_rules,
            )
    finally:
        runtime.dispose()


def test_a_playbook_is_installed_published_paused_and_measured(tmp_path: Path) -> None:
    json_of(sampan("init", "--json", data_dir=tmp_path))
    _channels(tmp_path)
    books = json_of(sampan("journeys", "playbooks", "--json", data_dir=tmp_path))
    assert {"abandoned_cart", "birthday_offer", "win_back"} <= {b["key"] for b in books}
    installed = json_of(
        sampan(
            "journeys",
            "install",
            "abandoned_cart",
            "--channel",
            "line=line-oa",
            "--publish",
            "--json",
            data_dir=tmp_path,
        )
    )
    assert installed["status"] == "live"
    assert installed["playbook"] == "abandoned_cart"
    sends = [n for n in installed["draft"]["nodes"] if n["type"] == "send"]
    assert sends
    assert all(n["channels"] == ["line-oa"] for n in sends)
    journey_id = installed["id"]
    paused = json_of(sampan("journeys", "pause", journey_id, "--json", data_dir=tmp_path))
    assert paused["status"] == "paused"
    metrics = json_of(sampan("journeys", "metrics", journey_id, "--json", data_dir=tmp_path))
    assert metrics["entered"] == 0
    listed = json_of(sampan("journeys", "list", "--json", data_dir=tmp_path))
    assert [j["id"] for j in listed] == [journey_id]
    wrong = sampan(
        "journeys", "install", "abandoned_cart", "--channel", "line=nope", data_dir=tmp_path
    )
    assert wrong.returncode != 0
    assert "no line channel named 'nope'" in wrong.stdout + wrong.stderr
    unknown = sampan("journeys", "install", "nothing", data_dir=tmp_path)
    assert unknown.returncode != 0
    assert "no playbook 'nothing'" in unknown.stdout + unknown.stderr
