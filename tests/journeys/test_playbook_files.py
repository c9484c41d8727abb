"""The ready-to-use playbooks: every file loads, its templates compile and fit its sends.

A playbook file holds placeholders that the installer fills in: ``$line``, ``$email`` and
``$sms`` for channels, ``$segment:<key>`` for ready-made segments. These tests fill them in
the same way and check the journey definition as the API would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jinja2.sandbox import SandboxedEnvironment

import sampan.journeys
from sampan.journeys.definition import DefinitionError, Problem, parse_definition
from sampan.segments.ready import ready_made

PLAYBOOKS = Path(sampan.journeys.__file__).parent / "playbooks"
FILES = sorted(PLAYBOOKS.glob("*.json"))
EXPECTED = {
    "welcome_series",
    "abandoned_cart",
    "first_purchase",
    "birthday_offer",
    "delivery_updates",
    "cross_sell",
    "win_back",
    "vip_invitation",
    "nps_survey",
    "hotel_rebooking",
}
# placeholder -> (channel kind, the channel name it becomes in these tests)
CHANNELS = {"$line": ("line", "line-oa"), "$email": ("email", "email"), "$sms": ("sms", "sms")}
READY_SEGMENTS = {key for key, _, _, _ in ready_made(vip_spend=20_000)}

by_file = pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def sends(playbook: dict[str, Any]) -> list[dict[str, Any]]:
    return [node for node in playbook["definition"]["nodes"] if node["type"] == "send"]


def strings(value: Any) -> Iterator[str]:
    """Every string inside a template body, at any depth."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def installed(value: Any) -> Any:
    """Fill the placeholders in as the installer does, channels by name, segments by id."""
    if isinstance(value, dict):
        return {key: installed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [installed(item) for item in value]
    if isinstance(value, str) and value in CHANNELS:
        return CHANNELS[value][1]
    if isinstance(value, str) and value.startswith("$segment:"):
        key = value.removeprefix("$segment:")
        assert key in READY_SEGMENTS, f"{key!r} is not a ready-made segment"
        return f"seg_{key}"
    return value


def problems_of(definition: dict[str, Any]) -> list[Problem]:
    try:
        parse_definition(definition)
    except DefinitionError as exc:
        return exc.problems
    return []


def test_the_ten_playbooks_are_there() -> None:
    missing = EXPECTED - {path.stem for path in FILES}
    assert not missing, f"no playbook file for {sorted(missing)}"


@by_file
def test_a_playbook_has_its_fields_and_is_named_after_its_key(path: Path) -> None:
    playbook = load(path)
    assert set(playbook) >= {"key", "name", "description", "templates", "definition"}
    assert path.name == f"{playbook['key']}.json"
    assert isinstance(playbook["name"], str)
    assert playbook["name"].strip()
    assert isinstance(playbook["description"], str)
    assert playbook["description"].strip()
    assert playbook["templates"]
    for node in playbook["definition"]["nodes"]:
        assert node.get("label"), f"node {node['id']} has no label"
        assert set(node.get("position") or {}) == {"x", "y"}, f"node {node['id']} has no position"


@by_file
def test_every_send_uses_a_template_of_the_playbook(path: Path) -> None:
    playbook = load(path)
    prefix = "pb-" + playbook["key"].replace("_", "-") + "-"
    templates = {template["name"]: template for template in playbook["templates"]}
    assert len(templates) == len(playbook["templates"]), "two templates share a name"
    for name in templates:
        assert name.startswith(prefix), f"{name!r} does not start with {prefix!r}"
    used = set()
    for node in sends(playbook):
        assert node["template"] in templates, f"{node['id']}: unknown template {node['template']}"
        used.add(node["template"])
        # A send's category, when it gives one, agrees with its template's.
        category = node.get("category", templates[node["template"]]["category"])
        assert category == templates[node["template"]]["category"], node["id"]
        assert set(node["channels"]) <= set(CHANNELS), f"{node['id']}: {node['channels']}"
    assert used == set(templates), f"templates no send uses: {sorted(set(templates) - used)}"


@by_file
def test_every_template_speaks_thai_and_english_on_every_kind_it_may_go_out_on(
    path: Path,
) -> None:
    playbook = load(path)
    templates = {template["name"]: template for template in playbook["templates"]}
    for node in sends(playbook):
        bodies = templates[node["template"]]["bodies"]
        for placeholder in node["channels"]:
            kind = CHANNELS[placeholder][0]
            languages = set(bodies.get(kind, {}))
            assert languages >= {"th", "en"}, f"{node['template']} {kind}: only {languages}"


@by_file
def test_every_template_string_compiles(path: Path) -> None:
    env = SandboxedEnvironment()
    env.filters["baht"] = str  # Sampan's filters, stood in: only parsing is tested here
    env.filters["thai_date"] = str
    for template in load(path)["templates"]:
        for text in strings(template["bodies"]):
            env.from_string(text)


@by_file
def test_the_definition_parses_once_the_placeholders_are_filled_in(path: Path) -> None:
    definition = installed(load(path)["definition"])
    problems = problems_of(definition)
    assert not problems, "; ".join(map(str, problems))
