"""The command line, including a real `seawall run --demo` server process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from seawall.cli import main

POSTS = [
    {"type": "account", "id": "a1", "handle": "abu_x1", "created_at": "2015-06-01T10:00:00Z"},
    {"type": "post", "id": "p1", "account_id": "a1", "text": "i will kill you", "created_at": "2015-06-01T10:00:00Z"},
    {"type": "post", "id": "p2", "account_id": "a1", "text": "nice day", "created_at": "2015-06-01T10:01:00Z"},
]


@pytest.fixture
def runner(settings):
    return CliRunner()


def _jsonl(path: Path, objs, extra: bytes = b"") -> Path:
    path.write_bytes(b"\n".join(orjson.dumps(o) for o in objs) + b"\n" + extra)
    return path


def test_replay_stats_and_deadletters(runner, tmp_path):
    f = _jsonl(tmp_path / "in.jsonl", POSTS, b'{"type":"post","id":"p3"}\n')
    r = runner.invoke(main, ["replay", str(f)])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["accepted"] == 3 and summary["rejected"] == 1
    assert summary["verdicts"]["queue"] == 1
    assert summary["rejections"][0] == {"line": 4, "field": "account_id", "reason": "required field is missing"}
    stats = json.loads(runner.invoke(main, ["stats", "--json"]).stdout)
    assert stats["events"]["total"] == 3 and stats["dead_letters_open"]["total"] == 1
    out = runner.invoke(main, ["deadletter", "list"]).stdout
    assert "line 4" in out and "account_id: required field is missing" in out
    r = runner.invoke(main, ["deadletter", "replay"])
    assert json.loads(r.stdout)["still_failing"][0]["field"] == "account_id"
    letter_id = json.loads(runner.invoke(main, ["deadletter", "list", "--json"]).stdout.splitlines()[0])["id"]
    runner.invoke(main, ["deadletter", "discard", str(letter_id)])
    assert json.loads(runner.invoke(main, ["stats", "--json"]).stdout)["dead_letters_open"]["total"] == 0


def test_replay_twitter_format(runner, tmp_path):
    tweet = {
        "id": 1, "id_str": "1", "created_at": "Mon Jun 01 10:00:00 +0000 2015", "text": "hello #world",
        "user": {"id": 9, "id_str": "9", "screen_name": "someone", "name": "Some One",
                 "created_at": "Wed Aug 27 13:08:45 +0000 2008"},
        "entities": {"hashtags": [{"text": "world", "indices": [6, 12]}], "urls": [], "user_mentions": []},
    }
    f = _jsonl(tmp_path / "t.jsonl", [tweet])
    r = runner.invoke(main, ["replay", str(f), "--format", "twitter-v1"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["accepted"] == 2


def test_keys(runner):
    r = runner.invoke(main, ["keys", "create", "--role", "reviewer", "--name", "alice"])
    assert r.exit_code == 0
    key = r.stdout.strip()
    assert key.startswith("sw_")
    listed = [json.loads(x) for x in runner.invoke(main, ["keys", "list"]).stdout.splitlines()]
    assert listed[0]["role"] == "reviewer" and listed[0]["name"] == "alice"
    assert key not in runner.invoke(main, ["keys", "list"]).stdout  # the secret is never shown again
    assert runner.invoke(main, ["keys", "revoke", listed[0]["key_id"]]).exit_code == 0
    assert runner.invoke(main, ["keys", "revoke", listed[0]["key_id"]]).exit_code != 0
    assert runner.invoke(main, ["keys", "create", "--role", "god"]).exit_code != 0


def test_rules_check_and_backtest(runner, tmp_path):
    assert "OK" in runner.invoke(main, ["rules", "check"]).stdout
    bad = tmp_path / "bad.toml"
    bad.write_text('version = 1\n[[rules]]\nname = "x"\nverdict = "obliterate"\nwhen = { signal = "watchterms" }\n')
    r = runner.invoke(main, ["rules", "check", str(bad)])
    assert r.exit_code != 0 and "verdict" in r.output and "obliterate" in r.output
    typo = tmp_path / "typo.toml"
    typo.write_text('version = 1\n[[rules]]\nname = "x"\nverdict = "remove"\nwhen = { signal = "watchterm" }\n')
    r = runner.invoke(main, ["rules", "check", str(typo)])
    assert r.exit_code != 0 and "watchterm" in r.output
    runner.invoke(main, ["replay", str(_jsonl(tmp_path / "in.jsonl", POSTS))])
    allow_all = tmp_path / "allow.toml"
    allow_all.write_text("version = 1\n")
    report = json.loads(runner.invoke(main, ["backtest", str(allow_all)]).stdout)
    assert report["total"] == 3 and report["changes"]["no_longer_actioned"]["count"] == 1


def test_config_errors_are_clear(runner, settings):
    (settings.home / "config.toml").write_text("[server]\nprot = 1\n")
    r = runner.invoke(main, ["stats"])
    assert r.exit_code != 0 and "server.prot" in r.output


def test_demo_generate_is_reproducible(runner, tmp_path):
    a = runner.invoke(main, ["demo", "generate", "--accounts", "20", "--posts", "50"]).stdout_bytes
    b = runner.invoke(main, ["demo", "generate", "--accounts", "20", "--posts", "50"]).stdout_bytes
    assert a == b and len(a.splitlines()) > 50


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_seawall_run_serves_and_processes_the_demo(settings, tmp_path):
    """The README's promise: run, then /healthz answers and `seawall stats` shows the demo."""
    port = _free_port()
    env = {**os.environ, "SEAWALL_HOME": str(settings.home), "SEAWALL_DATABASE_URL": settings.database_url}
    exe = Path(sys.executable).with_name("seawall")
    proc = subprocess.Popen([str(exe), "run", "--demo", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        health = None
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
                    health = json.loads(resp.read())
                    break
            except OSError:
                time.sleep(0.3)
        assert health and health["status"] == "ok"
        stats = {}
        demo = settings.home / "demo.jsonl"  # the small simulation `run --demo` writes once
        while not demo.exists() and time.time() < deadline:
            time.sleep(0.3)
        from seawall.demo.generate import BAD_LINES

        posts = sum(1 for line in demo.read_bytes().splitlines()
                    if line.startswith(b'{"type":"post"') and line not in BAD_LINES)
        while time.time() < deadline:
            out = subprocess.run([str(exe), "stats", "--json"], env=env, capture_output=True, timeout=60)
            stats = json.loads(out.stdout)
            if stats["events"]["by_type"].get("post") == posts and stats["dead_letters_open"]["total"] == 3:
                break
            time.sleep(0.5)
        assert posts > 1000 and stats["events"]["by_type"]["post"] == posts
        assert stats["cases"]["open_by_queue"]
        assert stats["dead_letters_open"]["total"] == 3
    finally:
        proc.terminate()
        proc.wait(timeout=30)
