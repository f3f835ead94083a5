"""Retroactive sweeps on SQLite and PostgreSQL: stored history matched against new bank entries,
cases opened with evidence, chunked and resumable, nothing counted twice."""

from __future__ import annotations

import io
import json
from pathlib import Path

import click
import orjson
import pytest
from click.testing import CliRunner
from PIL import Image

from pictures import synthetic_picture
from seawall.banks.cli import COMMANDS
from seawall.banks.model import BankError, EntryIn
from seawall.banks.store import BankStore
from seawall.banks.sweep import Sweeper
from seawall.config import load_settings
from seawall.media import hash_file
from seawall.pipeline.pipeline import Pipeline
from seawall.pipeline.replay import replay_stream
from seawall.storage.sql import open_store


def _picture(seed: int) -> Image.Image:
    return synthetic_picture(seed)


def _post(pid: str, at: str, media: list[str] = (), **kw) -> dict:  # noqa: ANN003
    return {"type": "post", "id": pid, "account_id": kw.pop("account", "a1"), "created_at": at,
            "media": [{"kind": "image", "path": p} for p in media], **kw}


def _feed(pipeline: Pipeline, *events: dict) -> dict:
    return replay_stream(pipeline, io.BytesIO(b"\n".join(orjson.dumps(e) for e in events) + b"\n"))


@pytest.fixture
def world(settings, tmp_path: Path):  # noqa: ANN001, ANN201
    (settings.home / "config.toml").write_text("[signals.hashbank]\nrefresh_seconds = 0\n")
    settings = load_settings()
    store = open_store(settings.database_url)
    pipeline = Pipeline.from_settings(settings, store)
    src = _picture(1)
    orig = tmp_path / "orig.jpg"
    src.save(orig, quality=95)
    copy = tmp_path / "copy.png"
    src.resize((240, 180)).save(copy)  # re-encoded and resized
    other = tmp_path / "other.jpg"
    _picture(2).save(other)
    summary = _feed(
        pipeline,
        {"type": "account", "id": "a1", "handle": "one", "created_at": "2015-01-01T00:00:00Z"},
        {"type": "account", "id": "a2", "handle": "two", "created_at": "2015-01-01T00:00:00Z",
         "avatar": {"kind": "image", "path": str(copy)}},
        _post("p1", "2015-02-01T00:00:00Z", [str(orig)], text="a holiday"),
        _post("p2", "2015-03-01T00:00:00Z", [str(other)], text="the sea"),
        _post("p3", "2015-04-01T00:00:00Z", [str(copy)], account="a2"),
        _post("p4", "2015-05-01T00:00:00Z", text="watch this", links=["https://bad.example/v/1?utm_source=x"]),
        _post("p5", "2015-06-01T00:00:00Z", text="nothing here"),
        {"type": "follow", "follower_id": "a1", "followee_id": "a2", "at": "2015-06-02T00:00:00Z"},
    )
    assert summary["accepted"] == 8 and summary["cases_opened"] == 0
    banks = BankStore(store.engine)
    banks.create_bank("tvec", "terrorist_propaganda", source="test", severity="critical")
    h = hash_file(orig)
    assert h.quality >= 50
    banks.add_entries("tvec", [EntryIn.make("pdq", h.pdq), EntryIn.make("url", "https://bad.example/v/1")])
    yield settings, store, pipeline, banks, tmp_path
    store.close()


def test_sweep_finds_past_copies_in_chunks_and_resumes(world):
    settings, store, _, banks, _ = world
    sweeper = Sweeper(store, settings, chunk=2)
    seen: list[dict] = []
    first = sweeper.sweep("tvec", progress=seen.append, max_chunks=1)  # stops early, as after a crash
    assert first["status"] == "running" and first["scanned"] == 2 and first["events"]["total"] == 7
    with pytest.raises(BankError, match="unfinished"):
        sweeper.sweep("tvec")
    out = sweeper.sweep("tvec", resume=True, progress=seen.append)
    assert out["status"] == "done" and out["sweep"] == first["sweep"]
    assert out["scanned"] == 7  # two accounts and five posts; the follow is not swept
    assert out["this_run"]["scanned"] == 5
    assert out["matched"] == 4  # p1 (same file), p3 and a2's avatar (resized PNG copy), p4 (link)
    assert [p["event"] for p in seen][:2] == ["start", "chunk"] and seen[-1]["event"] == "done"
    assert [p["scanned"] for p in seen if p["event"] == "chunk"] == [2, 4, 6, 7]

    cases = {(c["subject"]["type"], c["subject"]["id"]): c for c in store.list_cases(limit=100)}
    assert set(cases) == {("post", "p1"), ("post", "p3"), ("post", "p4"), ("account", "a2")}
    assert out["cases_opened"] == 4
    case = store.get_case(cases[("post", "p3")]["id"])
    assert case["queue"] == "extremism" and case["verdict"] == "remove"
    assert "known-terrorist-content" in case["rules"]
    hit = next(s for e in case["events"] for s in e["signals"] if s["signal"] == "hashbank")
    assert hit["label"] == "terrorist_propaganda" and hit["evidence"]["sweep"] == out["sweep"]
    assert hit["evidence"]["bank"] == "tvec" and hit["evidence"]["matches"][0]["kind"] == "pdq"
    url_case = store.get_case(cases[("post", "p4")]["id"])
    ev = next(s for e in url_case["events"] for s in e["signals"] if s["signal"] == "hashbank")["evidence"]
    assert ev["matches"][0]["url"] == "https://bad.example/v/1"
    keys = {a["idempotency_key"] for a in store.list_actions()}
    assert {"remove:post:p1", "remove:post:p3", "remove:post:p4"} <= keys

    # again: nothing to resume, nothing new, and a full re-sweep counts nothing twice
    again = sweeper.sweep("tvec", resume=True)
    assert again["status"] == "nothing_to_resume" and again["this_run"]["matched"] == 0
    assert sweeper.sweep("tvec")["status"] == "up_to_date"
    full = sweeper.sweep("tvec", full=True)
    assert full["status"] == "done" and full["scanned"] == 7 and full["matched"] == 0 and full["cases_opened"] == 0
    assert len(store.list_cases(limit=100)) == 4
    assert len(store.list_actions()) == len(keys)


def test_a_later_sweep_covers_only_new_entries_and_since(world):
    settings, store, _, banks, tmp_path = world
    sweeper = Sweeper(store, settings)
    assert sweeper.sweep("tvec", since=__import__("datetime").datetime.fromisoformat("2015-04-15T00:00:00+00:00"))[
        "matched"] == 1  # only p4 (p5 matches nothing); the older copies are out of range
    other = hash_file(tmp_path / "other.jpg")
    banks.add_entries("tvec", [EntryIn.make("sha256", other.sha256)])
    out = sweeper.sweep("tvec")
    assert out["entries"]["after_id"] == 2 and out["entries"]["up_to_id"] == 3
    assert out["matched"] == 1
    assert {c["subject"]["id"] for c in store.list_cases(limit=100)} == {"p2", "p4"}


def test_matches_made_at_ingest_are_not_counted_again(world):
    settings, store, pipeline, banks, tmp_path = world
    live = _feed(pipeline, _post("p9", "2015-07-01T00:00:00Z", [str(tmp_path / "orig.jpg")]))
    assert live["cases_opened"] == 1  # caught at ingest: the signal saw the new bank
    out = Sweeper(store, settings).sweep("tvec")
    assert out["matched"] == 4  # p1, p3, a2, p4 but not p9
    case = next(c for c in store.list_cases(limit=100) if c["subject"]["id"] == "p9")
    assert case["event_count"] == 1


def test_negative_and_disabled_banks_are_refused(world):
    settings, store, _, banks, _ = world
    banks.create_bank("fp", "known_fp", kind="negative")
    sweeper = Sweeper(store, settings)
    with pytest.raises(BankError, match="negative"):
        sweeper.sweep("fp")
    banks.set_bank_enabled("tvec", False)
    with pytest.raises(BankError, match="disabled"):
        sweeper.sweep("tvec")
    with pytest.raises(BankError, match="no bank"):
        sweeper.sweep("nope")


@click.group()
@click.option("--database", default=None)
@click.pass_context
def cli(ctx: click.Context, database: str | None) -> None:
    ctx.ensure_object(dict)
    ctx.obj["database"] = database


for _c in COMMANDS:
    cli.add_command(_c)


def test_sweep_command_prints_progress_and_a_summary(world):
    settings, store, _, _, _ = world
    run = CliRunner()
    r = run.invoke(cli, ["--database", settings.database_url, "bank", "sweep", "tvec", "--chunk", "3"],
                   catch_exceptions=False)
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["status"] == "done" and out["matched"] == 4 and out["cases_opened"] == 4
    progress = r.stderr.splitlines()
    assert len(progress) == 5  # start, three chunks, done
    assert progress[0].startswith(f"sweep {out['sweep']} tvec: start 0/7 events")
    assert "done 7/7 events (100.0%), 4 matched, 4 cases opened" in progress[-1]
    r = run.invoke(cli, ["--database", settings.database_url, "bank", "sweep", "tvec", "--resume"])
    assert r.exit_code == 0 and json.loads(r.stdout)["status"] == "nothing_to_resume"
    r = run.invoke(cli, ["--database", settings.database_url, "bank", "sweep", "tvec", "--since", "yesterday"])
    assert r.exit_code != 0 and "ISO 8601" in r.output
