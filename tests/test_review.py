"""Review workflow over the HTTP API with real sessions: login, CSRF, priority, claims, decisions,
the two-person rule, appeals and restores, media reveals and the exposure cap (SQLite and
PostgreSQL)."""

from __future__ import annotations

import base64
import io
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from seawall.api.app import create_app
from seawall.api.auth import create_key
from seawall.audit import entries
from seawall.embedded import Embedded
from seawall.review.people import add_user
from seawall.review.schema import case_review
from seawall.storage.schema import actions, cases

PASSWORD = "correct horse battery"


def threat(pid: str, account: str, **extra):  # noqa: ANN003, ANN201
    return {"type": "post", "id": pid, "account_id": account, "text": f"@ceo I will kill you ({pid})",
            "created_at": "2026-11-01T10:00:00Z", **extra}


def png(color=(200, 30, 30), size=(64, 48)) -> str:  # noqa: ANN001
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


@pytest.fixture
def runtime(settings):  # noqa: ANN001, ANN201
    settings.review.scrypt_log_n = 10  # fast hashes for tests; the default is 2**15
    rt = Embedded(settings)
    yield rt
    rt.stop()
    rt.store.close()


@pytest.fixture
def app(runtime):  # noqa: ANN001, ANN201
    return create_app(runtime)


@pytest.fixture
def ingest(runtime):  # noqa: ANN001, ANN201
    return {"Authorization": f"Bearer {create_key(runtime.store, 'ingest', 'platform')}"}


def person(app, runtime, name: str, role: str) -> TestClient:  # noqa: ANN001
    """A logged-in browser: its own cookie jar, the CSRF token sent on every request."""
    add_user(runtime.store, name, role, PASSWORD, log_n=10)
    c = TestClient(app, base_url="http://testserver")
    r = c.post("/v1/login", json={"username": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return c


def ingest_events(app, runtime, headers, events) -> None:  # noqa: ANN001
    c = TestClient(app)
    r = c.post("/v1/events", json=events, headers=headers)
    assert r.status_code == 202, r.text
    runtime.worker.drain()


def case_of(runtime, subject_id: str) -> dict:  # noqa: ANN001
    [c] = [c for c in runtime.store.list_cases(None, limit=500) if c["subject"]["id"] == subject_id]
    return c


def test_login_sets_a_strict_httponly_session_and_csrf_is_required(app, runtime, ingest):
    ingest_events(app, runtime, ingest, [threat("p1", "a1")])
    add_user(runtime.store, "rita", "reviewer", PASSWORD, log_n=10)
    c = TestClient(app)
    bad = c.post("/v1/login", json={"username": "rita", "password": "wrong password!"})
    assert bad.status_code == 401 and "password" in bad.json()["error"]["reason"]
    r = c.post("/v1/login", json={"username": "rita", "password": PASSWORD})
    assert r.status_code == 200
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie  # plain http here
    token = r.json()["csrf_token"]
    assert c.get("/v1/session").json()["user"]["username"] == "rita"
    case_id = case_of(runtime, "p1")["id"]
    # A state change with the cookie but without (or with a wrong) token is refused.
    no = c.post(f"/v1/cases/{case_id}/claim")
    assert no.status_code == 403 and "CSRF" in no.json()["error"]["reason"]
    wrong = c.post(f"/v1/cases/{case_id}/claim", headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403
    ok = c.post(f"/v1/cases/{case_id}/claim", headers={"X-CSRF-Token": token})
    assert ok.status_code == 200, ok.text
    # Cross-origin login attempts are refused outright.
    evil = TestClient(app).post("/v1/login", json={"username": "rita", "password": PASSWORD},
                                headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403
    assert c.post("/v1/logout", headers={"X-CSRF-Token": token}).status_code == 200
    assert c.get("/v1/session").status_code == 401
    log = [e.action for e in entries(runtime.store, limit=100)]
    assert {"session.login", "session.login_failed", "case.claim", "session.logout"} <= set(log)
    assert all(PASSWORD not in str(e.details) for e in entries(runtime.store, limit=100))


def test_https_sessions_get_secure_cookies(app, runtime):
    add_user(runtime.store, "sam", "reviewer", PASSWORD, log_n=10)
    c = TestClient(app, base_url="https://testserver")
    r = c.post("/v1/login", json={"username": "sam", "password": PASSWORD})
    assert "secure" in r.headers["set-cookie"].lower()


def test_priority_puts_what_spreads_furthest_first(app, runtime, ingest):
    big = {"type": "account", "id": "big", "handle": "big", "created_at": "2020-01-01T00:00:00Z",
           "followers_count": 250_000}
    small = {"type": "account", "id": "small", "handle": "small", "created_at": "2026-10-31T00:00:00Z",
             "followers_count": 12}
    reposts = [{"type": "post", "id": f"rp{i}", "account_id": f"fan{i}", "repost_of": "pbig",
                "created_at": f"2026-11-01T10:{10 + i:02d}:00Z"} for i in range(20)]
    ingest_events(app, runtime, ingest, [big, small, threat("psmall", "small"), threat("pbig", "big"), *reposts])
    reviewer = person(app, runtime, "rita", "reviewer")
    listed = reviewer.get("/v1/queues/threats/cases").json()["cases"]
    assert [c["subject"]["id"] for c in listed] == ["pbig", "psmall"]
    top, low = listed
    assert top["followers"] == 250_000 and top["reposts"] == 20 and top["repost_velocity"] > 1
    assert top["severity"] == low["severity"] and top["score"] > 3 * low["score"]
    assert low["account_age_days"] < 2 and low["reach"] < 2


def test_claims_are_exclusive_and_expire(app, runtime, ingest):
    ingest_events(app, runtime, ingest, [threat("p1", "a1")])
    a = person(app, runtime, "ann", "reviewer")
    b = person(app, runtime, "bob", "reviewer")
    cid = case_of(runtime, "p1")["id"]
    assert a.post(f"/v1/cases/{cid}/claim").status_code == 200
    taken = b.post(f"/v1/cases/{cid}/claim")
    assert taken.status_code == 409 and "claimed by another reviewer" in taken.json()["error"]["reason"]
    refused = b.post(f"/v1/cases/{cid}/decisions", json={"kind": "remove"})
    assert refused.status_code == 409 and "claim" in refused.json()["error"]["reason"]
    with runtime.store.engine.begin() as conn:
        conn.execute(update(case_review).where(case_review.c.case_id == cid)
                     .values(claim_expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
    assert b.post(f"/v1/cases/{cid}/claim").status_code == 200
    assert a.post(f"/v1/cases/{cid}/decisions", json={"kind": "remove"}).status_code == 409


def test_remove_creates_one_pseudonymous_action_and_is_audited(app, runtime, ingest):
    ingest_events(app, runtime, ingest, [threat("p1", "a1")])
    rita = person(app, runtime, "rita", "reviewer")
    cid = case_of(runtime, "p1")["id"]
    view = rita.get(f"/v1/review/cases/{cid}").json()
    assert view["events"][0]["event"]["text"].startswith("@ceo I will kill you")
    assert view["evidence"]["watchterms"], view["evidence"]
    bad = rita.post(f"/v1/cases/{cid}/decisions", json={"kind": "delete"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "kind"
    rita.post(f"/v1/cases/{cid}/claim")
    r = rita.post(f"/v1/cases/{cid}/decisions", json={"kind": "remove", "notes": "credible threat"})
    assert r.status_code == 200 and r.json()["status"] == "applied", r.text
    [aid] = r.json()["action_ids"]
    with runtime.store.engine.connect() as conn:
        act = conn.execute(select(actions).where(actions.c.id == aid)).mappings().one()
        assert conn.execute(select(cases.c.status).where(cases.c.id == cid)).scalar() == "actioned"
    assert act["idempotency_key"] == "remove:post:p1" and act["kind"] == "remove"
    pseudonym = rita.get("/v1/session").json()["user"]["pseudonym"]
    assert act["rule"] == f"review:{pseudonym}" and "rita" not in act["rule"]
    assert pseudonym.startswith("reviewer-")
    again = rita.post(f"/v1/cases/{cid}/decisions", json={"kind": "remove"})
    assert again.status_code == 409  # the case is no longer open
    log = entries(runtime.store, target=f"case:{cid}", limit=50)
    assert [e.action for e in log] == ["case.view", "case.claim", "case.decide"]
    assert log[-1].details["action_ids"] == [aid]


def test_two_person_rule_for_suspensions(app, runtime, ingest):
    ingest_events(app, runtime, ingest, [threat("p1", "a1")])
    cid = case_of(runtime, "p1")["id"]
    rita = person(app, runtime, "rita", "reviewer")
    sen = person(app, runtime, "sen", "senior_reviewer")
    sec = person(app, runtime, "sec", "security")
    rita.post(f"/v1/cases/{cid}/claim")
    r = rita.post(f"/v1/cases/{cid}/decisions", json={"kind": "suspend", "notes": "repeat threats"})
    assert r.json()["status"] == "proposed" and r.json()["action_ids"] == []
    did = r.json()["decision_id"]
    assert runtime.store.get_account("a1") is None or runtime.store.get_account("a1")["status"] != "suspended"
    assert rita.post(f"/v1/decisions/{did}/confirm").status_code == 403  # a reviewer cannot confirm
    assert sen.post(f"/v1/cases/{cid}/claim").status_code == 409  # waiting for confirmation
    ok = sec.post(f"/v1/decisions/{did}/confirm", json={"notes": "agreed"})
    assert ok.status_code == 200 and ok.json()["status"] == "applied", ok.text
    [aid] = ok.json()["action_ids"]
    with runtime.store.engine.connect() as conn:
        act = conn.execute(select(actions).where(actions.c.id == aid)).mappings().one()
    assert act["idempotency_key"] == "suspend:account:a1:0"
    assert act["rule"].count("reviewer-") == 2  # both people, by pseudonym
    assert runtime.store.get_account("a1")["status"] == "suspended"
    assert sen.post(f"/v1/decisions/{did}/confirm").status_code == 409  # already applied


def test_proposer_cannot_confirm_own_proposal_and_rejection_reopens(app, runtime, ingest):
    ingest_events(app, runtime, ingest, [threat("p1", "a1")])
    cid = case_of(runtime, "p1")["id"]
    sen = person(app, runtime, "sen", "senior_reviewer")
    sen2 = person(app, runtime, "sen2", "senior_reviewer")
    sen.post(f"/v1/cases/{cid}/claim")
    did = sen.post(f"/v1/cases/{cid}/decisions", json={"kind": "escalate", "escalate_to": "law_enforcement"}).json()["decision_id"]
    own = sen.post(f"/v1/decisions/{did}/confirm")
    assert own.status_code == 409 and "two-person" in own.json()["error"]["reason"]
    assert sen2.post(f"/v1/decisions/{did}/reject", json={"notes": "not credible"}).json()["status"] == "rejected"
    assert sen2.post(f"/v1/cases/{cid}/claim").status_code == 200  # open again


def test_appeal_goes_to_a_different_reviewer_and_overturn_restores(app, runtime, ingest):
    ingest_events(app, runtime, ingest, [threat("p1", "a1")])
    cid = case_of(runtime, "p1")["id"]
    rita = person(app, runtime, "rita", "reviewer")
    otto = person(app, runtime, "otto", "reviewer")
    rita.post(f"/v1/cases/{cid}/claim")
    [removal] = rita.post(f"/v1/cases/{cid}/decisions", json={"kind": "remove"}).json()["action_ids"]
    platform = TestClient(app)
    body = {"id": "ap-1", "subject_type": "post", "subject_id": "p1", "text": "It was a song lyric", "appellant": "a1"}
    r = platform.post("/v1/appeals", json=body, headers=ingest)
    assert r.status_code == 201 and r.json()["created"], r.text
    appeal_id = r.json()["appeal"]["id"]
    assert platform.post("/v1/appeals", json=body, headers=ingest).json()["created"] is False  # idempotent
    assert [c["id"] for c in otto.get("/v1/queues/appeals/cases").json()["cases"]] == [cid]
    mine = rita.post(f"/v1/cases/{cid}/claim")
    assert mine.status_code == 409 and "different reviewer" in mine.json()["error"]["reason"]
    assert otto.post(f"/v1/appeals/{appeal_id}/resolve", json={"outcome": "overturned"}).status_code == 409  # unclaimed
    otto.post(f"/v1/cases/{cid}/claim")
    res = otto.post(f"/v1/appeals/{appeal_id}/resolve", json={"outcome": "overturned", "notes": "lyrics"})
    assert res.status_code == 200, res.text
    [restore] = res.json()["restore_action_ids"]
    with runtime.store.engine.connect() as conn:
        row = conn.execute(select(actions).where(actions.c.id == restore)).mappings().one()
        orig = conn.execute(select(actions).where(actions.c.id == removal)).mappings().one()
    assert row["kind"] == "restore" and row["idempotency_key"] == "restore:" + orig["idempotency_key"]
    assert row["subject_id"] == "p1"
    view = otto.get(f"/v1/review/cases/{cid}").json()
    assert view["status"] == "closed" and view["appeals"][0]["status"] == "overturned"
    assert [d["kind"] for d in view["decisions"]] == ["remove", "overturn"]


def test_upheld_appeal_of_a_suspension_keeps_it(app, runtime, ingest):
    ingest_events(app, runtime, ingest, [threat("p1", "a1")])
    cid = case_of(runtime, "p1")["id"]
    sen = person(app, runtime, "sen", "senior_reviewer")
    sec = person(app, runtime, "sec", "security")
    sen.post(f"/v1/cases/{cid}/claim")
    did = sen.post(f"/v1/cases/{cid}/decisions", json={"kind": "suspend"}).json()["decision_id"]
    sec.post(f"/v1/decisions/{did}/confirm")
    flagger = {"Authorization": f"Bearer {create_key(runtime.store, 'flagger', 'ngo')}"}
    r = TestClient(app).post("/v1/appeals", json={"case_id": cid, "text": "please"}, headers=flagger)
    appeal_id = r.json()["appeal"]["id"]
    assert sec.post(f"/v1/cases/{cid}/claim").status_code == 409  # the confirmer decided it too
    rita = person(app, runtime, "rita", "reviewer")
    rita.post(f"/v1/cases/{cid}/claim")
    assert rita.post(f"/v1/appeals/{appeal_id}/resolve", json={"outcome": "upheld"}).json()["restore_action_ids"] == []
    assert runtime.store.get_account("a1")["status"] == "suspended"
    nothing = TestClient(app).post("/v1/appeals", json={"subject_type": "post", "subject_id": "nope", "text": "x"},
                                   headers=flagger)
    assert nothing.status_code == 404 and nothing.json()["error"]["field"] == "subject_id"


def test_media_blurred_by_default_reveal_counts_and_the_cap_holds(app, runtime, ingest):
    runtime.settings.review.exposure_cap = 1
    post = threat("p1", "a1", media=[{"kind": "image", "data": png()}, {"kind": "image", "data": png((20, 200, 20))}])
    ingest_events(app, runtime, ingest, [post])
    cid = case_of(runtime, "p1")["id"]
    # The stored event keeps only hashes; the review store kept the bytes.
    stored = runtime.store.get_case(cid)["events"][0]["event"]["media"][0]
    assert "data" not in stored and len(stored["sha256"]) == 64
    rita = person(app, runtime, "rita", "reviewer")
    media = rita.get(f"/v1/review/cases/{cid}").json()["media"]
    assert [m["field"] for m in media] == ["media[0]", "media[1]"]
    m0, m1 = media[0]["id"], media[1]["id"]
    from PIL import Image

    blurred = rita.get(f"/v1/media/{m0}")
    assert blurred.status_code == 200 and blurred.headers["content-type"] == "image/jpeg"
    img = Image.open(io.BytesIO(blurred.content))
    assert img.mode == "L"  # greyscale
    assert rita.get(f"/v1/media/{m0}?view=full").status_code == 403
    r = rita.post(f"/v1/media/{m0}/reveal")
    assert r.status_code == 200 and r.json()["exposure"]["reveals"] == 1
    full = Image.open(io.BytesIO(rita.get(f"/v1/media/{m0}?view=full").content)).convert("RGB")
    red, green, blue = full.getpixel((10, 10))
    assert red > 150 and green < 80  # the real colours
    assert rita.post(f"/v1/media/{m0}/reveal").json()["exposure"]["reveals"] == 1  # same picture: free
    capped = rita.post(f"/v1/media/{m1}/reveal")
    assert capped.status_code == 429 and "cap" in capped.json()["error"]["reason"]
    assert rita.get(f"/v1/media/{m1}?view=full").status_code == 403
    assert rita.get("/v1/session").json()["exposure"] == {"day": r.json()["exposure"]["day"], "reveals": 1, "cap": 1,
                                                          "remaining": 0}
    reveals = [e for e in entries(runtime.store, action="media.reveal", limit=10)]
    assert len(reveals) == 2 and reveals[0].target == f"case:{cid}"


def test_queues_show_sla_and_overdue_cases(app, runtime, ingest):
    ingest_events(app, runtime, ingest, [threat("p1", "a1"), threat("p2", "a2")])
    cid = case_of(runtime, "p1")["id"]
    with runtime.store.engine.begin() as conn:
        conn.execute(update(cases).where(cases.c.id == cid).values(opened_at=datetime.now(timezone.utc) - timedelta(days=1)))
    rita = person(app, runtime, "rita", "reviewer")
    queues = {q["name"]: q for q in rita.get("/v1/queues").json()["queues"]}
    assert queues["threats"]["open"] == 2 and queues["threats"]["overdue"] == 1
    assert queues["security"]["roles"] == ["admin", "senior_reviewer", "security"]
    listed = {c["subject"]["id"]: c for c in rita.get("/v1/queues/threats/cases").json()["cases"]}
    assert listed["p1"]["overdue"] and not listed["p2"]["overdue"] and listed["p2"]["seconds_left"] > 0


def test_saved_search_queue_and_queue_roles(app, runtime, ingest):
    from seawall.review.settings import SavedSearch

    runtime.settings.review.searches["new-accounts"] = SavedSearch(subject_types=["post"], sla_minutes=15)
    ingest_events(app, runtime, ingest, [threat("p1", "a1")])
    rita = person(app, runtime, "rita", "reviewer")
    found = rita.get("/v1/queues/new-accounts/cases").json()
    assert [c["subject"]["id"] for c in found["cases"]] == ["p1"]
    cid = found["cases"][0]["id"]
    rita.post(f"/v1/cases/{cid}/claim")
    esc = rita.post(f"/v1/cases/{cid}/decisions", json={"kind": "escalate", "escalate_to": "security"})
    assert esc.json()["status"] == "applied"
    # Now in the security queue, which a plain reviewer may not work.
    again = rita.post(f"/v1/cases/{cid}/claim")
    assert again.status_code == 403 and "security" in again.json()["error"]["reason"]


def test_bulk_decisions_over_campaign_cases(app, runtime, ingest):
    ingest_events(app, runtime, ingest, [threat(f"p{i}", f"a{i}") for i in range(4)])
    ids = [case_of(runtime, f"p{i}")["id"] for i in range(4)]
    rita = person(app, runtime, "rita", "reviewer")
    otto = person(app, runtime, "otto", "reviewer")
    otto.post(f"/v1/cases/{ids[3]}/claim")
    r = rita.post("/v1/bulk-decisions", json={"case_ids": ids, "kind": "remove", "notes": "campaign"}).json()
    assert r["decided"] == 3
    assert "claimed by another reviewer" in r["results"][3]["error"]["reason"]
    keys = {a["idempotency_key"] for a in runtime.store.list_actions()}
    assert {"remove:post:p0", "remove:post:p1", "remove:post:p2"} <= keys and "remove:post:p3" not in keys


def test_disabled_user_and_unknown_user_cannot_log_in(app, runtime):
    from seawall.review.people import disable_user

    add_user(runtime.store, "gone", "reviewer", PASSWORD, log_n=10)
    c = TestClient(app)
    assert c.post("/v1/login", json={"username": "gone", "password": PASSWORD}).status_code == 200
    disable_user(runtime.store, "gone")
    assert c.get("/v1/session").status_code == 401  # sessions end with the account
    assert c.post("/v1/login", json={"username": "gone", "password": PASSWORD}).status_code == 401
    assert c.post("/v1/login", json={"username": "nobody", "password": PASSWORD}).status_code == 401
    assert c.post("/v1/login", json={"username": "x"}).json()["error"]["field"] == "password"


def _campaign_case(runtime, members: list[tuple[str, str]]) -> int:  # noqa: ANN001
    """A campaign case as seawall.campaigns records one: a case with subject type "campaign" and
    its member posts and accounts."""
    from seawall.campaigns.schema import campaign_members, campaigns

    now = datetime.now(timezone.utc)
    with runtime.store.engine.begin() as conn:
        case_id = conn.execute(cases.insert().values(
            subject_type="campaign", subject_id="hashtag:floodtag", account_id=None, status="open", queue="campaigns",
            priority=80, verdict="queue", labels='["campaign"]', rules="[]", event_count=0, opened_at=now,
            updated_at=now).returning(cases.c.id)).scalar_one()
        cid = conn.execute(campaigns.insert().values(
            key="hashtag:floodtag", key_hash="0" * 64, kind="hashtag", reason="burst", label="campaign", case_id=case_id,
            status="active", score=0.9, evidence="{}", member_posts=len(members), member_accounts=len(members),
            first_seen=now, last_seen=now, created_at=now, updated_at=now).returning(campaigns.c.id)).scalar_one()
        for post, account in members:
            conn.execute(campaign_members.insert(), [
                {"campaign_id": cid, "member_type": "post", "member_id": post, "account_id": account, "joined_at": now, "added_at": now},
                {"campaign_id": cid, "member_type": "account", "member_id": account, "account_id": account, "joined_at": now, "added_at": now},
            ])
    return case_id


def test_campaign_case_decisions_act_on_every_member(app, runtime, ingest):
    members = [("c1", "ca1"), ("c2", "ca2"), ("c3", "ca3")]
    ingest_events(app, runtime, ingest, [{"type": "post", "id": p, "account_id": a, "text": "#floodtag join us",
                                          "created_at": "2026-11-01T10:00:00Z"} for p, a in members])
    case_id = _campaign_case(runtime, members)
    rita = person(app, runtime, "rita", "reviewer")
    sec = person(app, runtime, "sec", "security")
    view = rita.get(f"/v1/review/cases/{case_id}").json()
    assert [p["id"] for p in view["campaign"]["posts"]] == ["c1", "c2", "c3"]
    rita.post(f"/v1/cases/{case_id}/claim")
    r = rita.post(f"/v1/cases/{case_id}/decisions", json={"kind": "suspend", "notes": "coordinated"}).json()
    assert r["status"] == "proposed"  # the two-person rule holds for campaigns too
    ok = sec.post(f"/v1/decisions/{r['decision_id']}/confirm").json()
    assert len(ok["action_ids"]) == 3
    keys = {a["idempotency_key"] for a in runtime.store.list_actions()}
    assert {"suspend:account:ca1:0", "suspend:account:ca2:0", "suspend:account:ca3:0"} <= keys
    assert runtime.store.get_account("ca2")["status"] == "suspended"


def test_reposts_arriving_later_raise_an_open_case_s_priority(app, runtime, ingest):
    ingest_events(app, runtime, ingest, [threat("p1", "a1")])
    rita = person(app, runtime, "rita", "reviewer")
    before = rita.get("/v1/queues/threats/cases").json()["cases"][0]
    for batch in range(2):  # two batches: the second adds to the counts the first stored
        ingest_events(app, runtime, ingest, [
            {"type": "post", "id": f"rp{batch}-{i}", "account_id": f"f{i}", "quote_of": "p1",
             "created_at": f"2026-11-01T1{batch}:{i:02d}:00Z"} for i in range(10)])
    after = rita.get("/v1/queues/threats/cases").json()["cases"][0]
    assert before["reposts"] == 0 and after["reposts"] == 20
    # 20 reposts between 10:00 and 11:09 is ~17 an hour
    assert 15 < after["repost_velocity"] < 20 and after["score"] > 4 * before["score"]


def test_media_given_by_url_are_fetched_once_from_allowed_hosts(settings, tmp_path):
    import base64 as b64
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    picture = b64.b64decode(png((10, 10, 220)))
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(picture)))
            self.end_headers()
            self.wfile.write(picture)

        def log_message(self, *args) -> None:  # noqa: ANN002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings.signals["hashbank"] = {"fetch_hosts": ["127.0.0.1"], "fetch_private": True}
        settings.review.scrypt_log_n = 10
        rt = Embedded(settings)
        app = create_app(rt)
        key = {"Authorization": f"Bearer {create_key(rt.store, 'ingest', 'p')}"}
        url = f"http://127.0.0.1:{server.server_port}/m/1.png"
        ingest_events(app, rt, key, [threat("p1", "a1", media=[{"kind": "image", "url": url}])])
        rita = person(app, rt, "rita", "reviewer")
        [m] = rita.get(f"/v1/review/cases/{case_of(rt, 'p1')['id']}").json()["media"]
        seen = len(hits)  # the hashbank signal fetched it once at intake, to hash it
        assert rita.get(f"/v1/media/{m['id']}").status_code == 200
        rita.post(f"/v1/media/{m['id']}/reveal")
        from PIL import Image

        full = Image.open(io.BytesIO(rita.get(f"/v1/media/{m['id']}?view=full").content)).convert("RGB")
        assert full.getpixel((5, 5))[2] > 180
        assert len(hits) == seen + 1  # fetched for review once, then kept
        rt.settings.signals["hashbank"] = {}
        rt.stop()
        rt.store.close()
    finally:
        server.shutdown()


def test_media_url_without_allowed_hosts_says_why(app, runtime, ingest):
    ingest_events(app, runtime, ingest, [threat("p1", "a1", media=[{"kind": "image", "url": "https://cdn.example/x.png"}])])
    rita = person(app, runtime, "rita", "reviewer")
    [m] = rita.get(f"/v1/review/cases/{case_of(runtime, 'p1')['id']}").json()["media"]
    r = rita.get(f"/v1/media/{m['id']}")
    assert r.status_code == 422 and "fetch_hosts" in r.json()["error"]["reason"]


def test_review_config_keeps_default_queues_and_rejects_typos(tmp_path, monkeypatch):
    from seawall.config import ConfigError, load_settings

    monkeypatch.delenv("SEAWALL_DATABASE_URL", raising=False)
    (tmp_path / "config.toml").write_text("[review]\nexposure_cap = 10\n[review.queues.threats]\nsla_minutes = 60\n")
    s = load_settings(home=tmp_path)
    assert s.review.exposure_cap == 10 and s.review.queue("threats").sla_minutes == 60
    assert s.review.queue_roles("security") == ("admin", "senior_reviewer", "security")
    (tmp_path / "config.toml").write_text("[review.queues.threats]\nsla = 60\n")
    with pytest.raises(ConfigError, match="review.queues.threats.sla"):
        load_settings(home=tmp_path)


def test_video_has_no_blurred_preview_and_plays_only_after_a_reveal(app, runtime, ingest):
    clip = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4  # bytes as sent; the console plays them
    post = threat("p1", "a1", media=[{"kind": "video", "mime": "video/mp4", "data": base64.b64encode(clip).decode()}])
    ingest_events(app, runtime, ingest, [post])
    rita = person(app, runtime, "rita", "reviewer")
    [m] = rita.get(f"/v1/review/cases/{case_of(runtime, 'p1')['id']}").json()["media"]
    assert m["kind"] == "video"
    assert rita.get(f"/v1/media/{m['id']}").status_code == 415
    assert rita.get(f"/v1/media/{m['id']}?view=full").status_code == 403
    rita.post(f"/v1/media/{m['id']}/reveal")
    r = rita.get(f"/v1/media/{m['id']}?view=full")
    assert r.status_code == 200 and r.headers["content-type"] == "video/mp4" and r.content == clip
    assert "no-store" in r.headers["cache-control"]
