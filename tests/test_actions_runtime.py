"""Actions in the running system: the dispatcher inside the embedded runtime (`seawall run`), the
`seawall actions` commands, the HTTP routes, configuration errors, and a redelivered event that
never becomes a second action, end to end through a real receiver."""

from __future__ import annotations

import time

import orjson
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from seawall.actions.adapter import DeliveryResult, PlatformAdapter
from seawall.actions.outbox import Outbox
from seawall.api.app import create_app
from seawall.api.auth import create_key
from seawall.audit import entries
from seawall.cli import main
from seawall.config import ConfigError, load_settings
from seawall.embedded import Embedded
from seawall.events import parse_event
from seawall.normalize.item import Item

from actions_support import Receiver, commit_actions, free_port

SECRET = "runtime-test-secret-0123456789"
LOCKER = {"type": "post", "id": "p2", "account_id": "a1", "created_at": "2015-06-01T10:05:00Z",
          "text": "baqiya wa tatamadad, new release https://mega.nz/file/abc"}


def _configure(settings, monkeypatch, url: str, extra: str = ""):  # noqa: ANN001, ANN202
    monkeypatch.setenv("SEAWALL_TEST_WEBHOOK_SECRET", SECRET)
    (settings.home / "config.toml").write_text(
        f'[actions]\npoll_interval_s = 0.05\n[actions.webhook]\nurl = "{url}"\n'
        f'secret_env = "SEAWALL_TEST_WEBHOOK_SECRET"\ntimeout_s = 2.0\n'
        f'[actions.retry]\nbase_delay_s = 0.02\nmax_delay_s = 0.05\n{extra}'
    )
    return load_settings()


def _wait(cond, deadline_s: float = 20.0) -> None:  # noqa: ANN001
    end = time.monotonic() + deadline_s
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def _submit(rt: Embedded, event: dict) -> tuple[int, int]:
    ev = parse_event(event)
    return rt.submit([Item(event=ev, key=ev.key(), received_at=time.time())], "api:test")


def test_the_embedded_runtime_delivers_and_a_redelivered_event_is_one_action(settings, monkeypatch):
    receiver = Receiver(SECRET, plan=[500])  # down at first, then one error
    settings = _configure(settings, monkeypatch, receiver.url)
    rt = Embedded(settings)
    assert rt.dispatcher is not None
    rt.start()
    try:
        assert _submit(rt, LOCKER) == (1, 0)
        _wait(lambda: rt.store.list_actions() and Outbox(rt.store.engine).list()[0]["delivery"] is not None)
        _wait(lambda: Outbox(rt.store.engine).list()[0]["attempts"] >= 1)  # refused while the receiver is down
        receiver.start()
        _wait(lambda: rt.store.list_actions()[0]["status"] == "delivered")
        # The platform sends the same event again: a duplicate, no new action, nothing new delivered.
        assert _submit(rt, LOCKER) == (0, 1)
        rt.worker.drain()
        with_event_id = dict(LOCKER, event_id="redelivery-1")
        _submit(rt, with_event_id)
        rt.worker.drain()
        time.sleep(0.3)
    finally:
        rt.stop()
        receiver.stop()
    assert not rt.dispatcher.alive and not rt.worker.alive  # clean shutdown
    acts = rt.store.list_actions()
    assert [(a["kind"], a["idempotency_key"], a["status"]) for a in acts] == [("remove", "remove:post:p2", "delivered")]
    assert list(receiver.applied) == ["remove:post:p2"]
    assert [r["behaviour"] for r in receiver.raw] == [500, "ok"]
    assert receiver.rejected == []
    rt.store.close()


def test_cli_dispatch_list_retry_evidence_and_purge(settings, monkeypatch):
    port = free_port()
    settings = _configure(settings, monkeypatch, f"http://127.0.0.1:{port}/hook", "max_attempts = 1\n")
    from seawall.storage.sql import open_store

    store = open_store(settings.database_url)
    acts = commit_actions(store, 2)
    runner = CliRunner()
    r = runner.invoke(main, ["actions", "dispatch", "--once"])
    assert r.exit_code == 0, r.output
    assert orjson.loads(r.output) == {"enrolled": 2, "attempted": 2, "delivered": 0, "retried": 0, "failed": 2,
                                      "deferred": 0, "lost": 0}
    r = runner.invoke(main, ["actions", "list", "--status", "failed", "--json"])
    rows = [orjson.loads(line) for line in r.output.splitlines()]
    assert [x["id"] for x in rows] == [a["id"] for a in acts] and "ConnectError" in rows[0]["delivery"]["last_error"]
    r = runner.invoke(main, ["actions", "list"])
    assert "failed" in r.output and "remove:post:p0" in r.output
    r = runner.invoke(main, ["actions", "show", str(acts[0]["id"])])
    assert orjson.loads(r.output)["attempts_log"][0]["outcome"] == "failed"

    receiver = Receiver(SECRET, port=port).start()
    try:
        r = runner.invoke(main, ["actions", "retry", "--failed"])
        assert orjson.loads(r.output) == {"requeued": [a["id"] for a in acts], "refused": {}}
        r = runner.invoke(main, ["actions", "dispatch", "--once"])
        assert orjson.loads(r.output)["delivered"] == 2
        r = runner.invoke(main, ["actions", "retry", str(acts[0]["id"])])
        assert r.exit_code == 1 and "already delivered" in r.output
        r = runner.invoke(main, ["actions", "restore", str(acts[0]["id"])])
        assert r.exit_code == 0, r.output
        r = runner.invoke(main, ["actions", "dispatch", "--once"])
        assert orjson.loads(r.output)["delivered"] == 1
    finally:
        receiver.stop()
    assert sorted(receiver.applied) == ["remove:post:p0", "remove:post:p1", "restore:remove:post:p0"]

    r = runner.invoke(main, ["actions", "evidence", str(acts[0]["id"])])
    assert r.exit_code == 0, r.output
    hold = orjson.loads(r.output)
    assert hold["intact"] is True and hold["document"]["events"][0]["payload"]["text"] == "post 0"
    r = runner.invoke(main, ["actions", "evidence", "999"])
    assert r.exit_code == 1 and "no evidence held" in r.output
    r = runner.invoke(main, ["actions", "hold", str(acts[0]["id"])])
    assert r.exit_code == 2 and "--reason" in r.output
    r = runner.invoke(main, ["actions", "hold", str(acts[0]["id"]), "--reason", "court order 12"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(main, ["actions", "purge-expired", "--dry-run"])
    assert orjson.loads(r.output)["would_purge"] == []
    r = runner.invoke(main, ["actions", "purge-expired"])
    assert orjson.loads(r.output)["purged"] == [] and orjson.loads(r.output)["holds"]["legal_hold"] == 1
    # Operators' actions are in the audit log.
    logged = {(e.action, e.target) for e in entries(store, limit=1000)}
    aid = acts[0]["id"]
    assert {("action.retry", f"action:{aid}"), ("action.restore", f"action:{aid}"),
            ("evidence.view", f"action:{aid}"), ("evidence.legal_hold", f"action:{aid}")} <= logged
    store.close()


def test_dispatch_needs_an_adapter_and_a_secret(settings, monkeypatch):
    runner = CliRunner()
    r = runner.invoke(main, ["actions", "dispatch", "--once"])
    assert r.exit_code == 1 and "no adapter configured" in r.output
    (settings.home / "config.toml").write_text(
        '[actions.webhook]\nurl = "http://127.0.0.1:9/x"\nsecret_env = "SEAWALL_TEST_UNSET_SECRET"\n')
    monkeypatch.delenv("SEAWALL_TEST_UNSET_SECRET", raising=False)
    r = runner.invoke(main, ["actions", "dispatch", "--once"])
    assert r.exit_code == 1 and "actions.webhook.secret_env" in r.output and "SEAWALL_TEST_UNSET_SECRET" in r.output
    monkeypatch.setenv("SEAWALL_TEST_UNSET_SECRET", "short")
    r = runner.invoke(main, ["actions", "dispatch", "--once"])
    assert "shorter than 16 bytes" in r.output and "short" not in r.output.replace("shorter", "")
    with pytest.raises(ValueError, match="actions.webhook.secret_env"):
        Embedded(load_settings())


@pytest.mark.parametrize("body, where", [
    ('[actions.webhook]\nurl = "ftp://x"\nsecret_env = "S"\n', "actions.webhook.url"),
    ('[actions.webhook]\nurl = "https://u:pw@x/hook"\nsecret_env = "S"\n', "actions.webhook.url"),
    ('[actions.webhook]\nurl = "http://x"\n', "actions.webhook"),
    ('[actions.webhook]\nurl = "http://x"\nsecret_env = "S"\nsecret = "inline"\n', "actions.webhook.secret"),
    ('[actions]\nkinds = ["remove", "nuke"]\n', "actions.kinds"),
    ('[actions.retry]\nmax_attempts = 0\n', "actions.retry.max_attempts"),
    ('[actions]\nadapter = "carrier-pigeon"\n', None),
])
def test_bad_configuration_names_the_setting(tmp_path, monkeypatch, body, where):
    monkeypatch.setenv("SEAWALL_HOME", str(tmp_path))
    (tmp_path / "config.toml").write_text(body)
    if where is None:
        from seawall.actions.adapter import build_adapter

        with pytest.raises(ValueError, match="actions.adapter: unknown adapter 'carrier-pigeon'"):
            build_adapter(load_settings().actions)
        return
    with pytest.raises(ConfigError, match=where.replace(".", r"\.")):
        load_settings()


def test_http_list_and_retry_with_roles(settings):
    rt = Embedded(settings)
    client = TestClient(create_app(rt))
    keys = {role: create_key(rt.store, role) for role in ("admin", "auditor", "reviewer")}
    acts = commit_actions(rt.store, 3)
    outbox = Outbox(rt.store.engine)
    outbox.enroll(["remove"], rt.settings.actions.evidence)
    with rt.store.engine.begin() as conn:  # one failed, one delivered, one pending
        from sqlalchemy import text

        conn.execute(text(f"UPDATE actions SET status = 'failed' WHERE id = {acts[0]['id']}"))
        conn.execute(text(f"UPDATE action_deliveries SET state = 'failed' WHERE action_id = {acts[0]['id']}"))
        conn.execute(text(f"UPDATE actions SET status = 'delivered' WHERE id = {acts[1]['id']}"))
    h = lambda role: {"Authorization": f"Bearer {keys[role]}"}  # noqa: E731
    r = client.get("/v1/actions?status=failed", headers=h("auditor"))
    assert r.status_code == 200 and [a["id"] for a in r.json()["actions"]] == [acts[0]["id"]]
    assert r.json()["counts"]["by_status"] == {"pending": 1, "delivered": 1, "failed": 1}
    assert r.json()["actions"][0]["evidence_held"] is True
    assert client.get("/v1/actions?status=nonsense", headers=h("admin")).status_code == 422
    assert client.get("/v1/actions", headers=h("reviewer")).status_code == 403
    assert client.get(f"/v1/actions/{acts[2]['id']}", headers=h("auditor")).json()["status"] == "pending"
    assert client.get("/v1/actions/9999", headers=h("auditor")).status_code == 404
    assert client.post(f"/v1/actions/{acts[0]['id']}/retry", headers=h("auditor")).status_code == 403
    r = client.post(f"/v1/actions/{acts[0]['id']}/retry", headers=h("admin"))
    assert r.status_code == 200 and r.json()["action"]["status"] == "pending"
    assert r.json()["action"]["delivery"]["attempts"] == 0
    r = client.post(f"/v1/actions/{acts[1]['id']}/retry", headers=h("admin"))
    assert r.status_code == 409 and r.json()["error"]["field"] == "action_id"
    assert client.post("/v1/actions/9999/retry", headers=h("admin")).status_code == 404
    assert any(e.action == "action.retry" for e in entries(rt.store, limit=100))
    rt.stop()
    rt.store.close()


class _StopAfterFirst(PlatformAdapter):
    """A platform adapter that asks the dispatcher to stop while it handles its first action."""

    name = "stopper"

    def __init__(self, stop):  # noqa: ANN001
        self.stop = stop
        self.seen: list[str] = []

    def deliver(self, action):  # noqa: ANN001, ANN201
        self.seen.append(action.idempotency_key)
        self.stop.set()
        return DeliveryResult.ok(200)


def test_stopping_hands_claimed_actions_back_and_an_adapter_crash_loses_nothing(store):
    import threading

    from seawall.actions.dispatcher import Dispatcher
    from seawall.actions.retry import RetryPolicy
    from seawall.actions.settings import ActionsSettings

    commit_actions(store, 8)
    stop = threading.Event()
    adapter = _StopAfterFirst(stop)
    d = Dispatcher(store.engine, adapter, ActionsSettings(batch_size=8), RetryPolicy(0, 0, 5, 60, 0), concurrency=1)
    s = d.run_once(stop)
    assert s.delivered == 1 and s.deferred == 7 and len(adapter.seen) == 1
    waiting = Outbox(store.engine).list(status="pending")
    assert len(waiting) == 7 and all(a["attempts"] == 0 for a in waiting)
    with store.engine.connect() as conn:
        from sqlalchemy import text

        assert conn.execute(text("SELECT count(*) FROM action_deliveries WHERE lease_owner IS NOT NULL")).scalar() == 0

    class Broken(PlatformAdapter):
        name = "broken"

        def deliver(self, action):  # noqa: ANN001, ANN201
            raise RuntimeError("bug in the adapter")

    s = Dispatcher(store.engine, Broken(), ActionsSettings(), RetryPolicy(0, 0, 5, 60, 0)).run_once()
    assert s.retried == 7 and Outbox(store.engine).list(status="pending")[0]["delivery"]["last_error"] == \
        "adapter raised RuntimeError: bug in the adapter"
