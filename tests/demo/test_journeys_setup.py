"""The demo's journeys: four playbooks as drafts on the demo's channels."""

from __future__ import annotations

from sampan.demo.journeys import PLAYBOOKS, install_journeys
from sampan.demo.messaging import install_messaging
from tests.conftest import LiveServer


def test_the_demo_installs_playbooks_as_drafts(live_server: LiveServer) -> None:
    ws = live_server.workspace
    install_messaging(base_url=live_server.url, api_key=ws.api_key)
    assert install_journeys(base_url=live_server.url, api_key=ws.api_key) == len(PLAYBOOKS)
    journeys = ws.client.get("/api/journeys", headers=ws.auth).json()
    assert {j["playbook"]: j["status"] for j in journeys} == dict.fromkeys(PLAYBOOKS, "draft")
    cart = next(j for j in journeys if j["playbook"] == "abandoned_cart")
    sends = [n["channels"] for n in cart["draft"]["nodes"] if n["type"] == "send"]
    assert sends == [["line-oa", "email"]]
    # Installing twice adds nothing twice.
    assert install_journeys(base_url=live_server.url, api_key=ws.api_key) == 0
