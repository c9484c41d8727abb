"""``sampan campaigns`` and ``sampan messages`` run as real processes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sampan.messaging import service as messaging
from sampan.messaging.schemas import ChannelInput, TemplateInput
from sampan.runtime import Runtime
from sampan.segments import service as segments
from sampan.segments.schemas import SegmentInput
from sampan.settings import Settings
from tests.cli.test_cli import json_of, sampan


def _prepare(data_dir: Path) -> str:
    runtime = Runtime.from_settings(Settings(data_dir=data_dir))
    rules = runtime.messaging_rules
    try:
        with runtime.db.transaction() as session:
            segment = segments.create_segment(
                session,
                segment=SegmentInput(
                    name="ลูกค้า VIP", condition={"trait": "tier", "op": "eq", "value": "vip"}
                ),
                context=runtime.segment_context(),
            )
            messaging.create_channel(
                session,
                data=ChannelInput(
                    name="line-oa",
                    kind="line",
                    config={"channel_access_token": "t", "channel_secret": "s"},
                ),
                rules=rules,
            )
            messaging.save_template(
                session,
                data=TemplateInput(
                    name="vip",
                    bodies={"line": {"th": {"messages": [{"type": "text", "text": "สวัสดี"}]}}},
                ),
                rules=rules,
            )
    finally:
        runtime.dispose()
    return segment.id


def test_a_campaign_is_created_launched_and_reported_from_the_shell(tmp_path: Path) -> None:
    json_of(sampan("init", "--json", data_dir=tmp_path))
    segment_id = _prepare(tmp_path)
    spec: dict[str, Any] = {
        "name": "VIP ปีใหม่",
        "segment_id": segment_id,
        "channels": ["line-oa"],
        "variants": [{"name": "A", "template": "vip"}],
        "control_percent": 10,
    }
    file = tmp_path / "campaign.json"
    file.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    created = json_of(sampan("campaigns", "create", str(file), "--json", data_dir=tmp_path))
    assert created["status"] == "draft"
    assert created["name"] == "VIP ปีใหม่"
    launched = json_of(sampan("campaigns", "launch", created["id"], "--json", data_dir=tmp_path))
    assert launched["status"] == "sent"
    stats = json_of(sampan("campaigns", "stats", created["id"], "--json", data_dir=tmp_path))
    assert [arm["arm"] for arm in stats["arms"]] == ["A", "control"]
    listed = sampan("campaigns", "list", data_dir=tmp_path)
    assert "VIP ปีใหม่" in listed.stdout
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(spec | {"channels": ["fax"]}), encoding="utf-8")
    refused = sampan("campaigns", "create", str(bad), data_dir=tmp_path)
    assert refused.returncode == 1
    assert "no channel named fax" in refused.stdout
    missing = sampan("messages", "retry", "msg_nope", data_dir=tmp_path)
    assert missing.returncode == 1
    assert "does not exist" in missing.stdout
