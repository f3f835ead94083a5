"""End to end through the HTTP API on both databases: a post is removed by the platform, its media
feed the own-removals bank, and re-uploads (re-encoded and resized, cropped) are removed at ingest
by the default rule `reupload-of-removed-content`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from pictures import synthetic_picture
from seawall.api.app import create_app
from seawall.api.auth import create_key
from seawall.banks.index import hex_to_words
from seawall.config import load_settings
from seawall.embedded import Embedded
from seawall.media import hash_file

AT = "2015-06-01T10:00:00Z"


def _picture(seed: int) -> Image.Image:
    return synthetic_picture(seed, (640, 480), shapes=14, blur=3)


def _dist(a: str, b: str) -> int:
    return int(np.bitwise_count(hex_to_words([a])[0] ^ hex_to_words([b])[0]).sum())


def _post(pid: str, account: str, path: Path) -> dict:
    return {"type": "post", "id": pid, "account_id": account, "created_at": AT, "text": "look",
            "media": [{"kind": "image", "id": f"m-{pid}", "path": str(path)}]}


@pytest.fixture
def world(settings, tmp_path: Path):  # noqa: ANN001, ANN201
    media = tmp_path / "media"
    media.mkdir()
    (settings.home / "config.toml").write_text(f"[signals.hashbank]\nmedia_roots = [{str(media)!r}]\n")
    rt = Embedded(load_settings())
    client = TestClient(create_app(rt))
    ingest = {"Authorization": f"Bearer {create_key(rt.store, 'ingest', 'platform')}"}
    reviewer = {"Authorization": f"Bearer {create_key(rt.store, 'reviewer', 'rev')}"}
    yield rt, client, ingest, reviewer, media, tmp_path
    rt.stop()
    rt.store.close()


def _send(rt: Embedded, client: TestClient, headers: dict, *events: dict) -> None:
    r = client.post("/v1/events", json=list(events), headers=headers)
    assert r.status_code == 202 and r.json()["accepted"] == len(events), r.text
    rt.worker.drain()


def test_removed_image_is_blocked_on_reupload(world):
    rt, client, ingest, reviewer, media, tmp_path = world
    src = _picture(11)
    orig = media / "orig.jpg"
    src.save(orig, quality=92)
    reencoded = media / "reupload.jpg"  # re-encoded at low quality and resized
    src.resize((480, 360), Image.Resampling.LANCZOS).save(reencoded, quality=55)
    cropped = media / "crop.png"  # 1% off each side (PDQ is weakest at crops, see the docs)
    src.crop((6, 6, 634, 474)).save(cropped)
    unrelated = media / "other.jpg"
    _picture(6).save(unrelated)
    outside = tmp_path / "outside.jpg"  # the same picture, but not under media_roots: never read
    src.save(outside, quality=92)

    h0 = hash_file(orig)
    assert h0.quality >= 50
    # within half the PDQ threshold, where the default rule's min_score of 0.75 lies
    assert _dist(h0.pdq, hash_file(reencoded).pdq) <= 15
    assert _dist(h0.pdq, hash_file(cropped).pdq) <= 15
    assert _dist(h0.pdq, hash_file(unrelated).pdq) > 31

    _send(rt, client, ingest, {"type": "account", "id": "a1", "handle": "first", "created_at": AT},
          _post("p1", "a1", orig))
    assert client.get("/v1/cases", headers=reviewer).json()["cases"] == []  # nothing known yet

    # the platform removes p1: its media join the own-removals bank at once
    _send(rt, client, ingest, {"type": "enforcement", "post_id": "p1", "account_id": "a1", "action": "remove",
                               "at": "2015-06-01T11:00:00Z", "reason": "terrorist propaganda", "event_id": "rm-p1"})
    from seawall.banks.store import BankStore

    bank = BankStore(rt.store.engine).bank("own-removals")
    assert bank.label == "removed_content" and bank.source == "feedback"
    assert {e.kind for e in BankStore(rt.store.engine).entries("own-removals")} == {"sha256", "md5", "pdq"}

    _send(rt, client, ingest,
          _post("p2", "a2", reencoded), _post("p3", "a3", cropped), _post("p4", "a4", unrelated),
          _post("p5", "a5", outside), _post("p6", "a6", orig))

    cases = client.get("/v1/cases", headers=reviewer, params={"limit": 50}).json()["cases"]
    by_subject = {c["subject"]["id"]: c for c in cases}
    assert set(by_subject) == {"p2", "p3", "p6"}
    for pid in ("p2", "p3", "p6"):
        case = by_subject[pid]
        assert case["verdict"] == "remove" and case["queue"] == "extremism"
        assert "reupload-of-removed-content" in case["rules"]
        detail = client.get(f"/v1/cases/{case['id']}", headers=reviewer).json()
        [event] = detail["events"]
        assert event["verdict"] == "remove" and "remove" in event["actions"]
        [hit] = [s for s in event["signals"] if s["signal"] == "hashbank"]
        assert hit["label"] == "removed_content" and hit["evidence"]["bank"] == "own-removals"
        kinds = {m["kind"] for m in hit["evidence"]["matches"]}
        assert "pdq" in kinds and all(m["media_id"] == f"m-{pid}" for m in hit["evidence"]["matches"])
        if pid == "p6":  # the very same file: exact hashes too
            assert {"sha256", "md5"} <= kinds and hit["score"] == 1.0
        else:
            assert kinds == {"pdq"} and hit["evidence"]["matches"][0]["distance"] <= 15
        [action] = detail["actions"]
        assert action["kind"] == "remove" and action["idempotency_key"] == f"remove:post:{pid}"
        assert action["rule"] == "reupload-of-removed-content" and action["status"] == "pending"
    assert {a["idempotency_key"] for a in rt.store.list_actions()} >= {"remove:post:p2", "remove:post:p3",
                                                                        "remove:post:p6"}


def test_inline_media_bytes_are_hashed_matched_and_not_stored(world):
    """Media sent as base64 in the event: matched like files, and only their hashes are stored."""
    import base64
    import io

    import orjson

    rt, client, ingest, reviewer, media, tmp_path = world
    src = _picture(21)

    def b64(img: Image.Image, **kw) -> str:
        buf = io.BytesIO()
        img.save(buf, format="JPEG", **kw)
        return base64.b64encode(buf.getvalue()).decode()

    def post(pid: str, data: str) -> dict:
        return {"type": "post", "id": pid, "account_id": "a9", "created_at": AT, "text": "look",
                "media": [{"kind": "image", "id": f"m-{pid}", "data": data}]}

    _send(rt, client, ingest, post("q1", b64(src, quality=92)))
    stored = {h.event_key: h.payload for h in rt.store.iter_history()}["post:q1"]
    [m] = stored["media"]
    assert "data" not in m and len(m["sha256"]) == 64 and len(m["pdq"]) == 64
    _send(rt, client, ingest, {"type": "enforcement", "post_id": "q1", "action": "remove",
                               "at": "2015-06-01T11:00:00Z", "event_id": "rm-q1"})
    _send(rt, client, ingest, post("q2", b64(src.resize((480, 360)), quality=60)))
    [case] = [c for c in client.get("/v1/cases", headers=reviewer).json()["cases"] if c["subject"]["id"] == "q2"]
    assert case["verdict"] == "remove" and "reupload-of-removed-content" in case["rules"]
    bad = client.post("/v1/events", json=[post("q3", "not base64!!")], headers=ingest)
    assert bad.status_code == 422
    assert bad.json()["rejected"][0]["field"] == "media.0.data" and "base64" in bad.json()["rejected"][0]["reason"]
    assert orjson.loads(rt.store.list_dead_letters()[0].raw)["id"] == "q3"
