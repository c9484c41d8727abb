"""Pure commerce rules: routing an order to locations, pickup codes, distances."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sampan.settings import RoutingRule

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Site:
    """A location that could fulfil: where it is and what it can give now."""

    id: str
    latitude: float | None
    longitude: float | None
    available: Mapping[str, int]


@dataclass(frozen=True)
class Allocation:
    """Units of one SKU from one location, or back-ordered when ``location_id`` is None."""

    sku: str
    quantity: int
    location_id: str | None
    lead_time_days: int | None = None


@dataclass
class Plan:
    """Where each unit comes from, and why, in words a store manager can check."""

    allocations: list[Allocation] = field(default_factory=list)
    explanation: list[str] = field(default_factory=list)
    considered: list[dict[str, object]] = field(default_factory=list)
    # SKU -> units nobody can give and that may not be back-ordered.
    short: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """Return the plan as it is kept on the order."""
        return {
            "explanation": self.explanation,
            "considered": self.considered,
            "allocations": [
                {
                    "sku": a.sku,
                    "quantity": a.quantity,
                    "location_id": a.location_id,
                    "lead_time_days": a.lead_time_days,
                }
                for a in self.allocations
            ],
        }


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Return the great-circle distance between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def route(
    wanted: Mapping[str, int],
    sites: Sequence[Site],
    *,
    destination: tuple[float, float] | None,
    rule: RoutingRule,
    lead_times: Mapping[str, int | None],
    first: str | None = None,
) -> Plan:
    """Assign the wanted units to sites: one site with everything, else a split, else wait.

    Sites are ranked by ``first`` (the pickup branch or the till's own branch), then the
    rule's preferred locations, then distance to the destination (unknown distances last),
    then id, so the same question always gets the same answer.
    """
    plan = Plan()
    ranked = _rank(sites, destination, rule, first)
    for site, km in ranked:
        plan.considered.append(
            {
                "location_id": site.id,
                "distance_km": None if km is None else round(km, 1),
                "has_everything": _covers(site, wanted),
            }
        )
    whole = next((site for site, _ in ranked if _covers(site, wanted)), None)
    if whole is not None:
        plan.allocations = [Allocation(sku, qty, whole.id) for sku, qty in sorted(wanted.items())]
        plan.explanation.append(f"{whole.id} {_why(whole, ranked, first, rule)} has every item")
        return plan
    remaining = {sku: qty for sku, qty in wanted.items() if qty > 0}
    if rule.allow_split:
        used = 0
        for site, _ in ranked:
            if used == rule.max_locations or not remaining:
                break
            took = []
            for sku in sorted(remaining):
                qty = min(remaining[sku], max(0, site.available.get(sku, 0)))
                if qty:
                    took.append(Allocation(sku, qty, site.id))
                    remaining[sku] -= qty
            remaining = {sku: qty for sku, qty in remaining.items() if qty}
            if took:
                used += 1
                plan.allocations += took
                items = ", ".join(f"{a.quantity} x {a.sku}" for a in took)
                plan.explanation.append(f"split: {site.id} gives {items}")
    elif ranked:
        plan.explanation.append("no single location has every item and splitting is off")
    for sku, qty in sorted(remaining.items()):
        if rule.allow_backorder:
            days = lead_times.get(sku)
            days = rule.default_lead_time_days if days is None else days
            plan.allocations.append(Allocation(sku, qty, None, days))
            plan.explanation.append(f"back-order: {qty} x {sku}, expected in {days} days")
        else:
            plan.short[sku] = qty
    return plan


def _rank(
    sites: Sequence[Site],
    destination: tuple[float, float] | None,
    rule: RoutingRule,
    first: str | None,
) -> list[tuple[Site, float | None]]:
    def km(site: Site) -> float | None:
        if destination is None or site.latitude is None or site.longitude is None:
            return None
        return distance_km(destination, (site.latitude, site.longitude))

    preferred = {location: rank for rank, location in enumerate(rule.prefer)}
    scored = [(site, km(site)) for site in sites]
    return sorted(
        scored,
        key=lambda pair: (
            pair[0].id != first,
            preferred.get(pair[0].id, len(preferred)),
            pair[1] is None,
            pair[1] or 0.0,
            pair[0].id,
        ),
    )


def _covers(site: Site, wanted: Mapping[str, int]) -> bool:
    return all(site.available.get(sku, 0) >= qty for sku, qty in wanted.items())


def _why(
    site: Site,
    ranked: Sequence[tuple[Site, float | None]],
    first: str | None,
    rule: RoutingRule,
) -> str:
    if site.id == first:
        return "(the order's own branch)"
    if site.id in rule.prefer:
        return "(preferred by the routing rule)"
    km = next(distance for candidate, distance in ranked if candidate is site)
    if km is None:
        return "(first by id; no distance known)"
    return f"(nearest that does, {km:.1f} km)"


def new_pickup_code() -> str:
    """Return a six-digit code the customer shows at hand-over."""
    return f"{secrets.randbelow(1_000_000):06d}"


def hash_pickup_code(order_id: str, code: str) -> str:
    """Return the stored form of a pickup code, bound to its order."""
    return hashlib.sha256(f"{order_id}:{code.strip()}".encode()).hexdigest()


def pickup_code_matches(order_id: str, code: str, stored: str) -> bool:
    """Compare a code given at the counter with the stored hash, in constant time."""
    return hmac.compare_digest(hash_pickup_code(order_id, code), stored)
