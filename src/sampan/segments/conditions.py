"""The segment condition language: a JSON tree checked node by node, errors naming the node.

A condition is one of
``{"all": [...]}``, ``{"any": [...]}``, ``{"not": {...}}``,
``{"trait": "city", "op": "eq", "value": "เชียงใหม่"}``,
``{"computed": "total_spent", "op": "gte", "value": 5000}``,
``{"event": "Order Completed", "where": [...], "count": {"op": "gte", "value": 2},
"within_days": 90}``,
``{"identity": "line_user_id"}``,
``{"consent": {"purpose": "marketing", "channel": "line"}}``,
``{"segment": "seg_..."}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sampan.core.errors import InvalidInput

TRAIT_OPS = (
    "eq",
    "neq",
    "in",
    "not_in",
    "contains",
    "gt",
    "gte",
    "lt",
    "lte",
    "between",
    "exists",
    "not_exists",
    "before",
    "after",
    "within_last_days",
    "not_within_last_days",
    "anniversary_within_days",
    "anniversary_this_month",
)
PROPERTY_OPS = ("eq", "neq", "in", "contains", "gt", "gte", "lt", "lte", "exists")
COMPARE_OPS = ("eq", "gt", "gte", "lt", "lte")
COMPUTED = {
    "total_spent": "number",
    "order_count": "number",
    "event_count": "number",
    "last_order_at": "time",
    "last_seen_at": "time",
    "first_seen_at": "time",
    "rfm_recency": "number",
    "rfm_frequency": "number",
    "rfm_monetary": "number",
    "rfm_group": "text",
    "lifecycle_stage": "text",
    "inactivity": "text",
    "bought_category": "text",
}
# Computed traits that move with time alone, or are scored on schedule.
_COMPUTED_OVER_TIME = frozenset(
    {"rfm_recency", "rfm_frequency", "rfm_monetary", "rfm_group", "lifecycle_stage", "inactivity"}
)
_OPS_BY_KIND = {
    "text": ("eq", "neq", "in", "not_in"),
    "number": ("eq", "neq", "in", "not_in", "gt", "gte", "lt", "lte", "between")
    + ("exists", "not_exists"),
    "time": ("before", "after", "within_last_days", "not_within_last_days")
    + ("exists", "not_exists"),
}
ANY_EVENT = "*"
MAX_DEPTH = 12
MAX_NODES = 200
_KINDS = ("all", "any", "not", "trait", "computed", "event", "identity", "consent", "segment")


@dataclass(frozen=True)
class Group:
    """``all`` or ``any`` of the children; ``not`` is a group of one, negated."""

    kind: str
    children: tuple[Condition, ...]


@dataclass(frozen=True)
class TraitTest:
    """A test of a trait (``computed`` False) or a computed trait."""

    field: str
    op: str
    value: Any
    computed: bool


@dataclass(frozen=True)
class PropertyTest:
    """A filter on a property of the counted events."""

    property: str
    op: str
    value: Any


@dataclass(frozen=True)
class Aggregate:
    """``count``, or ``sum``/``avg`` of a property, compared with a number."""

    function: str
    property: str | None
    op: str
    value: float


@dataclass(frozen=True)
class EventTest:
    """Did (or did not) the person do an event, how often, how much, and when."""

    event: str
    did: bool
    where: tuple[PropertyTest, ...]
    aggregate: Aggregate
    within_days: float | None
    since: datetime | None
    until: datetime | None


@dataclass(frozen=True)
class IdentityTest:
    """The person has an identifier of this type."""

    type: str


@dataclass(frozen=True)
class ConsentTest:
    """The person's consent for a purpose (and channel) is granted, or not."""

    purpose: str
    channel: str
    granted: bool


@dataclass(frozen=True)
class SegmentTest:
    """The person is a member of another segment."""

    segment_id: str


Condition = Group | TraitTest | EventTest | IdentityTest | ConsentTest | SegmentTest


def parse_condition(raw: Any) -> Condition:
    """Return the typed tree of a JSON condition; InvalidInput names the offending node."""
    counter = [0]
    return _node(raw, "condition", 0, counter)


def is_time_based(condition: Condition) -> bool:
    """Whether the members can change with time alone, without any new event."""
    if isinstance(condition, Group):
        return any(is_time_based(child) for child in condition.children)
    if isinstance(condition, TraitTest):
        if condition.computed and condition.field in _COMPUTED_OVER_TIME:
            return True
        return condition.op in (
            "within_last_days",
            "not_within_last_days",
            "anniversary_within_days",
            "anniversary_this_month",
            "before",
            "after",
        )
    if isinstance(condition, EventTest):
        return condition.within_days is not None or condition.until is not None
    # A consent may expire; a nested segment is re-evaluated on its own schedule.
    return isinstance(condition, ConsentTest | SegmentTest)


def segment_references(condition: Condition) -> set[str]:
    """Return the ids of the segments this condition refers to."""
    if isinstance(condition, Group):
        return set().union(*(segment_references(c) for c in condition.children))
    return {condition.segment_id} if isinstance(condition, SegmentTest) else set()


def _node(raw: Any, where: str, depth: int, counter: list[int]) -> Condition:
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise InvalidInput(f"{where}: a condition has at most {MAX_NODES} nodes")
    if depth > MAX_DEPTH:
        raise InvalidInput(f"{where}: conditions nest at most {MAX_DEPTH} levels deep")
    if not isinstance(raw, Mapping):
        raise InvalidInput(f'{where}: must be an object such as {{"all": [...]}}')
    kinds = [key for key in _KINDS if key in raw]
    if len(kinds) != 1:
        found = ", ".join(kinds) if kinds else "none"
        raise InvalidInput(
            f"{where}: must have exactly one of {', '.join(_KINDS)} (found: {found})"
        )
    kind = kinds[0]
    if kind in ("all", "any"):
        _only(raw, {kind}, where)
        items = raw[kind]
        if not isinstance(items, list) or not items:
            raise InvalidInput(f"{where}.{kind}: must be a non-empty list of conditions")
        return Group(
            kind,
            tuple(
                _node(item, f"{where}.{kind}[{i}]", depth + 1, counter)
                for i, item in enumerate(items)
            ),
        )
    if kind == "not":
        _only(raw, {"not"}, where)
        return Group("not", (_node(raw["not"], f"{where}.not", depth + 1, counter),))
    if kind in ("trait", "computed"):
        return _trait(raw, kind, where)
    if kind == "event":
        return _event(raw, where)
    if kind == "identity":
        _only(raw, {"identity"}, where)
        return IdentityTest(_name(raw["identity"], f"{where}.identity"))
    if kind == "consent":
        return _consent(raw, where)
    _only(raw, {"segment"}, where)
    return SegmentTest(_name(raw["segment"], f"{where}.segment"))


def _trait(raw: Mapping[str, Any], kind: str, where: str) -> TraitTest:
    _only(raw, {kind, "op", "value", "days"}, where)
    field = _name(raw[kind], f"{where}.{kind}")
    computed = kind == "computed"
    if computed and field not in COMPUTED:
        raise InvalidInput(
            f"{where}.computed: unknown computed trait {field!r}: "
            f"expected one of {', '.join(COMPUTED)}"
        )
    op = raw.get("op")
    if op not in TRAIT_OPS:
        raise InvalidInput(f"{where}.op: must be one of {', '.join(TRAIT_OPS)}, got {op!r}")
    value = raw.get("days") if op.endswith("_days") else raw.get("value")
    value = _trait_value(op, value, where)
    if computed:
        allowed = _OPS_BY_KIND[COMPUTED[field]]
        if op not in allowed:
            raise InvalidInput(f"{where}.op: {field} takes {', '.join(allowed)}, not {op!r}")
    return TraitTest(field, op, value, computed)


def _trait_value(op: str, value: Any, where: str) -> Any:
    if op in ("exists", "not_exists", "anniversary_this_month"):
        return None
    if op.endswith("_days"):
        return _number(value, f"{where}.days", minimum=0)
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value or len(value) > 1000:
            raise InvalidInput(f"{where}.value: {op!r} needs a list of 1-1000 values")
        return tuple(value)
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise InvalidInput(f"{where}.value: 'between' needs [low, high]")
        return tuple(_scalar(v, f"{where}.value") for v in value)
    if op in ("before", "after"):
        return _time(value, f"{where}.value")
    if op == "contains":
        if not isinstance(value, str) or not value:
            raise InvalidInput(f"{where}.value: 'contains' needs a non-empty text")
        return value
    return _scalar(value, f"{where}.value")


_EVENT_KEYS = {"event", "did", "where", "count", "sum", "avg", "within_days", "since", "until"}


def _event(raw: Mapping[str, Any], where: str) -> EventTest:
    _only(
        raw,
        {"event", "did", "where", "count", "sum", "avg", "within_days", "since", "until"},
        where,
    )
    event = _name(raw["event"], f"{where}.event")
    did = raw.get("did", True)
    if not isinstance(did, bool):
        raise InvalidInput(f"{where}.did: must be true or false")
    filters = raw.get("where", [])
    if not isinstance(filters, list):
        raise InvalidInput(f"{where}.where: must be a list of property filters")
    tests = tuple(_property(f, f"{where}.where[{i}]") for i, f in enumerate(filters))
    aggregates = [key for key in ("count", "sum", "avg") if key in raw]
    if len(aggregates) > 1:
        raise InvalidInput(f"{where}: give one of count, sum, avg, not {', '.join(aggregates)}")
    aggregate = Aggregate("count", None, "gte", 1)
    if aggregates:
        aggregate = _aggregate(aggregates[0], raw[aggregates[0]], f"{where}.{aggregates[0]}")
    if not did and aggregates:
        raise InvalidInput(f"{where}: 'did': false cannot be combined with {aggregates[0]}")
    if event == ANY_EVENT and (tests or aggregates):
        raise InvalidInput(f"{where}: any event ('*') takes no property filters, counts or sums")
    within = raw.get("within_days")
    since, until = raw.get("since"), raw.get("until")
    if within is not None and (since is not None or until is not None):
        raise InvalidInput(f"{where}: give within_days or since/until, not both")
    return EventTest(
        event=event,
        did=did,
        where=tests,
        aggregate=aggregate,
        within_days=_number(within, f"{where}.within_days", minimum=0)
        if within is not None
        else None,
        since=_time(since, f"{where}.since") if since is not None else None,
        until=_time(until, f"{where}.until") if until is not None else None,
    )


def _property(raw: Any, where: str) -> PropertyTest:
    if not isinstance(raw, Mapping):
        raise InvalidInput(f'{where}: must be an object like {{"property": ..., "op": ...}}')
    _only(raw, {"property", "op", "value"}, where)
    prop = _name(raw.get("property"), f"{where}.property")
    op = raw.get("op")
    if op not in PROPERTY_OPS:
        raise InvalidInput(f"{where}.op: must be one of {', '.join(PROPERTY_OPS)}, got {op!r}")
    value = _trait_value(op, raw.get("value"), where) if op != "exists" else None
    return PropertyTest(prop, op, value)


def _aggregate(function: str, raw: Any, where: str) -> Aggregate:
    if not isinstance(raw, Mapping):
        raise InvalidInput(f'{where}: must be an object like {{"op": "gte", "value": 2}}')
    allowed = {"op", "value"} | ({"property"} if function != "count" else set())
    _only(raw, allowed, where)
    op = raw.get("op")
    if op not in COMPARE_OPS:
        raise InvalidInput(f"{where}.op: must be one of {', '.join(COMPARE_OPS)}, got {op!r}")
    prop = _name(raw.get("property"), f"{where}.property") if function != "count" else None
    value = _number(raw.get("value"), f"{where}.value", minimum=None)
    return Aggregate(function, prop, op, value)


def _consent(raw: Mapping[str, Any], where: str) -> ConsentTest:
    _only(raw, {"consent"}, where)
    body = raw["consent"]
    if not isinstance(body, Mapping):
        raise InvalidInput(f"{where}.consent: must be an object with purpose and channel")
    _only(body, {"purpose", "channel", "granted"}, f"{where}.consent")
    granted = body.get("granted", True)
    if not isinstance(granted, bool):
        raise InvalidInput(f"{where}.consent.granted: must be true or false")
    channel = body.get("channel") or ""
    if not isinstance(channel, str):
        raise InvalidInput(f"{where}.consent.channel: must be a text")
    return ConsentTest(_name(body.get("purpose"), f"{where}.consent.purpose"), channel, granted)


def _only(raw: Mapping[str, Any], allowed: set[str], where: str) -> None:
    extra = sorted(set(raw) - allowed)
    if extra:
        raise InvalidInput(
            f"{where}: unexpected {', '.join(repr(k) for k in extra)}; "
            f"allowed here: {', '.join(sorted(allowed))}"
        )


def _name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise InvalidInput(f"{where}: must be a name of 1-200 characters")
    return value


def _number(value: Any, where: str, *, minimum: float | None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"{where}: must be a number, got {value!r}")
    if minimum is not None and value < minimum:
        raise InvalidInput(f"{where}: must be {minimum} or more, got {value}")
    return float(value)


def _scalar(value: Any, where: str) -> Any:
    if isinstance(value, str | int | float | bool) and not isinstance(value, dict | list):
        return value
    raise InvalidInput(f"{where}: must be a text, number or true/false, got {value!r}")


def _time(value: Any, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{where}: must be an ISO 8601 time, got {value!r}") from None
    if moment.tzinfo is None:
        raise InvalidInput(f"{where}: must include a time zone, e.g. '+07:00'")
    return moment


def _op_schema(ops: tuple[str, ...]) -> dict[str, Any]:
    return {"enum": list(ops)}


_SCALAR = {"type": ["string", "number", "boolean"]}
_VALUE = {"oneOf": [_SCALAR, {"type": "array", "items": _SCALAR, "minItems": 1}]}
_COMPARE_SCHEMA = {
    "type": "object",
    "required": ["op", "value"],
    "additionalProperties": False,
    "properties": {"op": _op_schema(COMPARE_OPS), "value": {"type": "number"}},
}
_MEASURE_SCHEMA = {
    **_COMPARE_SCHEMA,
    "required": ["property", "op", "value"],
    "properties": {**_COMPARE_SCHEMA["properties"], "property": {"type": "string"}},  # type: ignore[dict-item]
}
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://sampan.dev/schemas/segment-condition.json",
    "title": "Sampan segment condition",
    "$ref": "#/$defs/condition",
    "$defs": {
        "condition": {
            "oneOf": [
                {"$ref": f"#/$defs/{name}"}
                for name in ("all", "any", "not", "trait", "computed", "event")
                + ("identity", "consent", "segment")
            ]
        },
        "all": {
            "type": "object",
            "required": ["all"],
            "additionalProperties": False,
            "properties": {
                "all": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/condition"}}
            },
        },
        "any": {
            "type": "object",
            "required": ["any"],
            "additionalProperties": False,
            "properties": {
                "any": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/condition"}}
            },
        },
        "not": {
            "type": "object",
            "required": ["not"],
            "additionalProperties": False,
            "properties": {"not": {"$ref": "#/$defs/condition"}},
        },
        "trait": {
            "type": "object",
            "required": ["trait", "op"],
            "additionalProperties": False,
            "properties": {
                "trait": {"type": "string", "minLength": 1, "maxLength": 200},
                "op": _op_schema(TRAIT_OPS),
                "value": _VALUE,
                "days": {"type": "number", "minimum": 0},
            },
        },
        "computed": {
            "type": "object",
            "required": ["computed", "op"],
            "additionalProperties": False,
            "properties": {
                "computed": {"enum": list(COMPUTED)},
                "op": _op_schema(TRAIT_OPS),
                "value": _VALUE,
                "days": {"type": "number", "minimum": 0},
            },
        },
        "event": {
            "type": "object",
            "required": ["event"],
            "additionalProperties": False,
            "properties": {
                "event": {"type": "string", "description": "an event name, or * for any"},
                "did": {"type": "boolean", "default": True},
                "where": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["property", "op"],
                        "additionalProperties": False,
                        "properties": {
                            "property": {"type": "string"},
                            "op": _op_schema(PROPERTY_OPS),
                            "value": _VALUE,
                        },
                    },
                },
                "count": _COMPARE_SCHEMA,
                "sum": _MEASURE_SCHEMA,
                "avg": _MEASURE_SCHEMA,
                "within_days": {"type": "number", "minimum": 0},
                "since": {"type": "string", "format": "date-time"},
                "until": {"type": "string", "format": "date-time"},
            },
        },
        "identity": {
            "type": "object",
            "required": ["identity"],
            "additionalProperties": False,
            "properties": {"identity": {"type": "string"}},
        },
        "consent": {
            "type": "object",
            "required": ["consent"],
            "additionalProperties": False,
            "properties": {
                "consent": {
                    "type": "object",
                    "required": ["purpose"],
                    "additionalProperties": False,
                    "properties": {
                        "purpose": {"type": "string"},
                        "channel": {"type": "string"},
                        "granted": {"type": "boolean", "default": True},
                    },
                }
            },
        },
        "segment": {
            "type": "object",
            "required": ["segment"],
            "additionalProperties": False,
            "properties": {"segment": {"type": "string", "description": "a segment id"}},
        },
    },
}
