"""The receiver example in docs/actions.md, run as written against Seawall's own signed requests."""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime, timezone
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from pydantic import SecretStr

from seawall.actions.adapter import Action
from seawall.actions.signing import sign
from seawall.actions.webhook import WebhookAdapter

from actions_support import free_port

SECRET = "docs-example-secret-0123456789"
DOC = Path(__file__).resolve().parents[1] / "docs" / "actions.md"


@pytest.fixture
def example(monkeypatch):
    code = re.search(r"```python\n(# receiver-example.*?)```", DOC.read_text(encoding="utf-8"), re.S).group(1)
    namespace: dict = {"__name__": "receiver_example"}
    exec(compile(code, str(DOC), "exec"), namespace)  # noqa: S102 - our own documentation
    monkeypatch.setenv("SEAWALL_WEBHOOK_SECRET", SECRET)
    return namespace


def _action(attempt: int) -> Action:
    return Action(id=1, idempotency_key="remove:post:p2", kind="remove", subject_type="post", subject_id="p2",
                  created_at=datetime.now(timezone.utc), attempt=attempt, delivery_id=f"d{attempt}")


def test_the_documented_verify_accepts_seawall_and_refuses_forgeries(example):
    adapter = WebhookAdapter("http://127.0.0.1:9/", SecretStr(SECRET))
    body, headers = adapter.request(_action(1))
    adapter.close()
    verify = example["verify"]
    assert verify(SECRET.encode(), headers, body)["action"]["subject"] == {"type": "post", "id": "p2"}
    with pytest.raises(ValueError, match="replayed"):
        verify(SECRET.encode(), headers, body)
    with pytest.raises(ValueError, match="bad signature"):
        verify(SECRET.encode(), headers, body.replace(b"p2", b"p3"))
    stale = sign(SECRET, body, timestamp=int(time.time()) - 301)
    with pytest.raises(ValueError, match="stale"):
        verify(SECRET.encode(), dict(headers, **stale), body)
    with pytest.raises(ValueError, match="bad signature"):
        verify(b"another-secret", headers, body)


def test_the_documented_receiver_applies_a_retried_key_once(example, capsys):
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), example["Handler"])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    adapter = WebhookAdapter(f"http://127.0.0.1:{port}/", SecretStr(SECRET), timeout_s=5)
    try:
        first = adapter.deliver(_action(1))
        retry = adapter.deliver(_action(2))  # the same key again, as after a lost answer
        impostor = WebhookAdapter(f"http://127.0.0.1:{port}/", SecretStr("not-the-shared-secret!"))
        forged = impostor.deliver(_action(3))
        impostor.close()
    finally:
        adapter.close()
        server.shutdown()
        server.server_close()
    assert first.delivered and retry.delivered and first.status == retry.status == 200
    assert not forged.delivered and forged.status == 401 and not forged.retryable
    assert capsys.readouterr().out.count("would remove post p2") == 1
    assert example["_applied"] == {"remove:post:p2"}
