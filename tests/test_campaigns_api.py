"""Campaign and crisis routes over HTTP: reviewers read, admins act, the dashboard page."""

from __future__ import annotations

import random

import pytest
from campaign_streams import background, burst, in_order
from fastapi.testclient import TestClient

from seawall.api.app import create_app
from seawall.api.auth import create_key
from seawall.campaigns.crisis import start_crisis
from seawall.config import load_settings
from seawall.embedded import Embedded


@pytest.fixture
def runtime(settings):
    (settings.home / "config.toml").write_text("[signals.campaign]\ncrisis_poll_seconds = 0\n")
    rt = Embedded(load_settings())
    yield rt
    rt.stop()
    rt.store.close()


@pytest.fixture
def client(runtime):
    return TestClient(create_app(runtime))


def auth(runtime, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(runtime.store, role, f'test-{role}')}"}


def send(client, runtime, events, headers, chunk: int = 50) -> None:
    for i in range(0, len(events), chunk):
        r = client.post("/v1/events", json=events[i : i + chunk], headers=headers)
        assert r.status_code == 202, r.text
        runtime.worker.drain()


def test_reviewers_read_campaigns_and_admins_act(client, runtime):
    rng = random.Random(5)
    ingest, reviewer, admin = (auth(runtime, r) for r in ("ingest", "reviewer", "admin"))
    send(client, runtime, in_order(background(rng, 70) + burst(rng, 60, 28, "r")), ingest)
    listed = client.get("/v1/campaigns?status=all", headers=reviewer)
    assert listed.status_code == 200
    [c] = [c for c in listed.json()["campaigns"] if c["key"] == "hashtag:#raid"]
    detail = client.get(f"/v1/campaigns/{c['id']}", headers=reviewer).json()
    assert len(detail["members"]["posts"]) == 28 and detail["case_id"] == c["case_id"]
    # The campaign's case is an ordinary case too: its events are the member posts.
    case = client.get(f"/v1/cases/{c['case_id']}", headers=reviewer)
    assert case.status_code == 200
    url = f"/v1/campaigns/{c['id']}/actions"
    assert client.post(url, json={"kind": "remove"}, headers=reviewer).status_code == 403
    bad = client.post(url, json={"kind": "delete"}, headers=admin)
    assert bad.status_code == 422
    done = client.post(url, json={"kind": "remove"}, headers=admin)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["members"] == 28 and body["created"] + body["existing"] == 28
    again = client.post(url, json={"kind": "remove"}, headers=admin).json()
    assert again["created"] == 0 and again["existing"] == 28
    assert client.get("/v1/campaigns/999999", headers=reviewer).status_code == 404
    assert client.post("/v1/campaigns/999999/actions", json={"kind": "remove"}, headers=admin).status_code == 404
    assert client.get("/v1/campaigns").status_code == 401


def test_crisis_volume_and_dashboard(client, runtime):
    reviewer, ingest = auth(runtime, "reviewer"), auth(runtime, "ingest")
    empty = client.get("/v1/crisis/dashboard", headers=reviewer)
    assert empty.status_code == 200 and "No crisis" in empty.text
    start_crisis(runtime.store, "quake-fake", "test:admin", hashtags=["prayfor<x>"])
    events = [{"type": "post", "id": f"c{i}", "account_id": "o1", "text": f"news {i} #prayfor<x>",
               "hashtags": ["prayfor<x>"], "created_at": f"2024-03-01T10:{i // 3:02d}:00Z"} for i in range(9)]
    send(client, runtime, events, ingest)
    data = client.get("/v1/crisis", headers=reviewer).json()
    assert data["active"] and data["total_posts"] == 9
    assert [p["posts"] for p in data["volume"]] == [3, 3, 3]
    page = client.get("/v1/crisis/dashboard", headers=reviewer)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<svg" in page.text and page.text.count("<rect") == 3
    assert "#prayfor&lt;x&gt;" in page.text and "<x>" not in page.text  # escaped
    assert client.get("/v1/crisis/dashboard").status_code == 401
    assert client.get("/v1/crisis", headers=ingest).status_code == 403
