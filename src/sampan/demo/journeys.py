"""The demo's journeys: four playbooks installed as drafts, ready to look at and publish."""

from __future__ import annotations

import httpx

# Drafts, not live: the demo's channels are switched off, so nothing could be sent anyway.
PLAYBOOKS = ("abandoned_cart", "welcome_series", "birthday_offer", "win_back")


def install_journeys(*, base_url: str, api_key: str) -> int:
    """Install the demo playbooks as draft journeys; return how many were new."""
    headers = {"Authorization": f"Bearer {api_key}"}
    created = 0
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        for key in PLAYBOOKS:
            response = client.post(f"/api/journeys/playbooks/{key}/install", json={})
            if response.status_code == 409:
                continue
            response.raise_for_status()
            created += 1
    return created
