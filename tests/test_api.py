"""The HTTP API on the embedded runtime: intake, bad input, auth and roles, health, metrics."""

from __future__ import annotations

import re

import orjson
import pytest
from fastapi.testclient import TestClient

from seawall.api.app import create_app
from seawall.api.auth import ENDPOINT_ROLES, PUBLIC, ROLES, create_key
from seawall.embedded import Embedded

POST = {"type": "post", "id": "p1", "account_id": "a1", "text": "hello world", "created_at": "2015-06-01T10:00:00Z"}
THREAT = {"type": "post", "id": "p2", "account_id": "a2", "text": "@ceo I will kill you",
          "created_at": "2015-06-01T10:01:00Z"}


@pytest.fixture
def runtime(settings):
    rt = Embedded(settings)
    yield rt
    rt.stop()
    rt.store.close()


@pytest.fixture
def client(runtime):
    return TestClient(create_app(runtime))


@pytest.fixture
def keys(runtime):
    return {role: create_key(runtime.store, role, f"test-{role}") for role in ROLES}


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_events_are_accepted_durably_then_decided(client, runtime, keys):
    r = client.post("/v1/events", json=[POST, THREAT], headers=auth(keys["ingest"]))
    assert r.status_code == 202, r.text
    assert r.json() == {"received": 2, "accepted": 2, "duplicates": 0, "rejected": []}
    assert runtime.store.inbox_size() == 2  # in the inbox before the reply, not only in memory
    runtime.worker.drain()
    assert runtime.store.inbox_size() == 0
    cases = client.get("/v1/cases", headers=auth(keys["reviewer"])).json()["cases"]
    assert [c["subject"]["id"] for c in cases] == ["p2"]
    assert cases[0]["queue"] == "threats"


def test_case_detail_shows_events_rules_and_evidence(client, runtime, keys):
    report = {"type": "report", "id": "r1", "target_type": "post", "target_id": "p2", "reason": "violent threat",
              "at": "2015-06-01T11:00:00Z"}
    client.post("/v1/events", json=[THREAT, report], headers=auth(keys["ingest"]))
    runtime.worker.drain()
    [case] = client.get("/v1/cases", headers=auth(keys["reviewer"])).json()["cases"]
    detail = client.get(f"/v1/cases/{case['id']}", headers=auth(keys["reviewer"])).json()
    assert [e["type"] for e in detail["events"]] == ["post", "report"]
    post = detail["events"][0]
    assert post["event"]["text"] == THREAT["text"]
    assert post["verdict"] == "queue" and post["rules"][0]["rule"] == "violent-threat"
    [watch] = [h for h in post["signals"] if h["signal"] == "watchterms"]
    assert watch["label"] == "violent_threat" and watch["evidence"]["matches"]
    assert detail["rules"][0] == "violent-threat" and "user-report-violence" in detail["rules"]
    missing = client.get("/v1/cases/999999", headers=auth(keys["reviewer"]))
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "case_id"


def test_redelivery_is_idempotent(client, runtime, keys):
    client.post("/v1/events", json=[THREAT], headers=auth(keys["ingest"]))
    runtime.worker.drain()
    r = client.post("/v1/events", json={"events": [THREAT]}, headers=auth(keys["ingest"]))
    assert r.json()["duplicates"] == 1 and r.json()["accepted"] == 0
    runtime.worker.drain()
    assert len(runtime.store.list_cases()) == 1
    assert runtime.store.stats()["events"]["total"] == 1


def test_batch_with_bad_items_keeps_the_good_ones_and_explains_the_bad(client, runtime, keys):
    bad = [{"type": "post", "id": "x"}, {"type": "nope"}, "a string", {**POST, "id": "p9", "txt": "typo"}]
    r = client.post("/v1/events", json=[POST, *bad], headers=auth(keys["ingest"]))
    assert r.status_code == 202
    body = r.json()
    assert body["accepted"] == 1
    rejected = {(x["index"], x["field"]) for x in body["rejected"]}
    assert rejected == {(1, "account_id"), (2, "type"), (3, None), (4, "txt")}
    assert all(x["reason"] for x in body["rejected"])
    letters = runtime.store.list_dead_letters()
    assert len(letters) == 4 and {d.kind for d in letters} == {"rejected"}


def test_all_bad_batch_is_422(client, keys):
    r = client.post("/v1/events", json=[{"type": "post"}], headers=auth(keys["ingest"]))
    assert r.status_code == 422
    assert r.json()["rejected"][0]["field"] == "id"


@pytest.mark.parametrize(
    "body, reason",
    [(b"{not json", "malformed JSON"), (b"\xff\xfe{}", "invalid UTF-8 at byte 0")],
)
def test_undecodable_body_is_400_with_reason_and_kept(client, runtime, keys, body, reason):
    r = client.post("/v1/events", content=body, headers={**auth(keys["ingest"]), "Content-Type": "application/json"})
    assert r.status_code == 400
    assert reason in r.json()["error"]["reason"]
    assert len(runtime.store.list_dead_letters()) == 1


def test_ndjson_body(client, runtime, keys):
    body = orjson.dumps(POST) + b"\n" + b"{broken\n" + orjson.dumps(THREAT) + b"\n"
    r = client.post("/v1/events", content=body,
                    headers={**auth(keys["ingest"]), "Content-Type": "application/x-ndjson"})
    assert r.status_code == 202
    assert r.json()["accepted"] == 2
    assert r.json()["rejected"][0]["index"] == 2


def test_body_size_limit(client, keys, runtime):
    big = b"[" + b" " * (runtime.settings.server.max_body_bytes + 10) + b"]"
    r = client.post("/v1/events", content=big, headers={**auth(keys["ingest"]), "Content-Type": "application/json"})
    assert r.status_code == 413


def test_megabyte_text_is_rejected_with_reason(client, keys):
    r = client.post("/v1/events", json=[{**POST, "text": "a" * 1_000_000}], headers=auth(keys["ingest"]))
    assert r.status_code == 422
    assert r.json()["rejected"][0]["field"] == "text"


def test_other_formats_through_the_api(client, runtime, keys):
    status = {"id": "1091", "created_at": "2023-01-05T10:00:00.000Z", "content": "<p>I will kill you</p>",
              "account": {"id": "77", "username": "x", "acct": "x", "display_name": "X", "note": "",
                          "created_at": "2022-01-01T00:00:00.000Z", "avatar": "https://m.example/a.png",
                          "followers_count": 1, "following_count": 1, "statuses_count": 1},
              "media_attachments": [], "mentions": [], "tags": [], "visibility": "public"}
    r = client.post("/v1/events?format=mastodon", json=[status], headers=auth(keys["ingest"]))
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] == 2  # the account and the post
    r = client.post("/v1/events?format=myspace", json=[status], headers=auth(keys["ingest"]))
    assert r.status_code == 422 and r.json()["error"]["field"] == "format"


def test_flaggers_submit_reports_only(client, runtime, keys):
    report = {"type": "report", "id": "r1", "target_type": "post", "target_id": "p1", "reason": "terrorism",
              "at": "2015-06-01T11:00:00Z"}
    r = client.post("/v1/reports", json=[report, POST], headers=auth(keys["flagger"]))
    assert r.status_code == 202
    assert r.json()["accepted"] == 1
    assert r.json()["rejected"][0]["field"] == "type"
    assert client.post("/v1/events", json=[POST], headers=auth(keys["flagger"])).status_code == 403


def test_every_route_is_guarded_or_deliberately_public(client):
    for route in client.app.routes:
        for method in getattr(route, "methods", None) or ():
            if method != "HEAD":
                assert (method, route.path) in ENDPOINT_ROLES or (method, route.path) in PUBLIC


@pytest.mark.parametrize("method, path", sorted(ENDPOINT_ROLES))
def test_role_matrix(client, keys, method, path):
    """Every protected endpoint with no key, a bad key, and every role."""
    allowed = ENDPOINT_ROLES[(method, path)]
    path = re.sub(r"\{[^}]+\}", "1", path)  # every path parameter: an id that may or may not exist
    assert client.request(method, path).status_code == 401
    assert client.request(method, path, headers=auth("sw_000000000000_nope")).status_code == 401
    assert client.request(method, path, headers=auth("garbage")).status_code == 401
    for role, key in keys.items():
        r = client.request(method, path, headers=auth(key), json=[])
        if role in allowed:
            assert r.status_code not in (401, 403), (role, method, path, r.text)
        else:
            assert r.status_code == 403, (role, method, path, r.text)
            assert role in r.json()["error"]["reason"]


def test_role_matrix_sessions(client, runtime):
    """Every protected endpoint with a logged-in person of every people role (a browser session
    with its CSRF token); machines' `ingest` role has no people."""
    from fastapi.testclient import TestClient

    from seawall.review.people import add_user
    from seawall.review.settings import PEOPLE_ROLES

    runtime.settings.review.scrypt_log_n = 10
    password = "role matrix password"

    def login(role: str) -> TestClient:
        browser = TestClient(client.app)
        r = browser.post("/v1/login", json={"username": f"person-{role}", "password": password})
        assert r.status_code == 200, r.text
        browser.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        return browser

    for role in PEOPLE_ROLES:
        add_user(runtime.store, f"person-{role}", role, password, log_n=10)
    browsers = {role: login(role) for role in PEOPLE_ROLES}
    for method, template in sorted(ENDPOINT_ROLES):
        allowed = ENDPOINT_ROLES[(method, template)]
        path = re.sub(r"\{[^}]+\}", "1", template)
        for role in PEOPLE_ROLES:
            browser = login(role) if template == "/v1/logout" else browsers[role]
            r = browser.request(method, path, json=[])
            if role in allowed:
                assert r.status_code not in (401, 403), (role, method, template, r.text)
            else:
                assert r.status_code == 403, (role, method, template, r.text)
                assert role in r.json()["error"]["reason"]
    # A cookie that is no session, and a session's state change without its CSRF token.
    stranger = TestClient(client.app, cookies={"seawall_session": "forged"})
    assert stranger.get("/v1/stats").status_code == 401
    no_csrf = TestClient(client.app, cookies=dict(browsers["admin"].cookies))
    r = no_csrf.post("/v1/deadletters/replay")
    assert r.status_code == 403 and "CSRF" in r.json()["error"]["reason"]


def test_revoked_key_is_refused(client, runtime, keys):
    key_id = keys["admin"][3:15]
    assert runtime.store.revoke_api_key(key_id)
    r = client.get("/v1/stats", headers=auth(keys["admin"]))
    assert r.status_code == 401 and "revoked" in r.json()["error"]["reason"]


def test_x_api_key_header_also_works(client, keys):
    assert client.get("/v1/stats", headers={"X-API-Key": keys["auditor"]}).status_code == 200


def test_health_and_metrics_are_public(client, runtime, keys):
    assert client.get("/healthz").json()["status"] == "ok"
    client.post("/v1/events", json=[THREAT], headers=auth(keys["ingest"]))
    runtime.worker.drain()
    text = client.get("/metrics").text
    assert "seawall_events_processed_total 1.0" in text
    assert 'seawall_verdicts_total{verdict="queue"} 1.0' in text
    assert "seawall_ingest_to_verdict_seconds_bucket" in text


def test_dead_letters_listed_and_replayed_over_the_api(client, runtime, keys):
    client.post("/v1/events", json=[{"type": "post", "id": "p5", "account_id": "a", "text": "hi"}],
                headers=auth(keys["ingest"]))
    letters = client.get("/v1/deadletters", headers=auth(keys["auditor"])).json()["dead_letters"]
    assert letters[0]["field"] == "created_at"
    r = client.post("/v1/deadletters/replay", headers=auth(keys["admin"]))
    assert r.json()["replayed"] == 0 and r.json()["still_failing"][0]["field"] == "created_at"


def test_worker_thread_processes_in_background(client, runtime, keys):
    import time

    runtime.start()
    client.post("/v1/events", json=[THREAT], headers=auth(keys["ingest"]))
    deadline = time.time() + 10
    while time.time() < deadline and not runtime.store.list_cases():
        time.sleep(0.05)
    assert runtime.store.list_cases()[0]["subject"]["id"] == "p2"
    assert client.get("/readyz").json()["ready"] is True


def test_a_large_batch_within_the_body_limit_is_accepted(client, runtime, keys):
    # More than the 4 MiB per-line limit of file replay, well under the 16 MiB body limit.
    posts = [{**POST, "id": f"big{i}", "text": "x" * 4000} for i in range(1500)]
    r = client.post("/v1/events", json=posts, headers=auth(keys["ingest"]))
    assert r.status_code == 202, r.text[:200]
    assert r.json()["accepted"] == 1500
