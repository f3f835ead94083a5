"""OpenAPI fuzzing of the HTTP API (schemathesis): for every operation, valid and invalid requests
generated from the schema, sent with an admin key. Whatever arrives, the API never answers 5xx and
every 4xx says why (`error.reason`, a reason per rejected event, or FastAPI's `detail` for
parameters it validates itself)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from seawall.api.app import create_app
from seawall.api.auth import create_key
from seawall.config import load_settings
from seawall.embedded import Embedded

EXAMPLES = 10  # per operation; about a minute and a half for the whole API on this machine


def _api():
    # Built at import: schemathesis parametrises the test from the app's schema at collection.
    home = Path(tempfile.mkdtemp(prefix="seawall-fuzz."))
    runtime = Embedded(load_settings(home, database=f"sqlite:///{home / 'seawall.db'}"))
    return runtime, create_app(runtime), create_key(runtime.store, "admin", "fuzz"), home


RUNTIME, APP, KEY, HOME = _api()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
schema.config.generation.update(modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])


@pytest.fixture(scope="module", autouse=True)
def _runtime():
    RUNTIME.start()
    yield
    RUNTIME.stop()
    shutil.rmtree(HOME, ignore_errors=True)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_5xx_and_every_4xx_says_why(case):
    headers = {**(case.headers or {}), "Authorization": f"Bearer {KEY}"}
    response = case.call(headers=headers)
    where = f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
    assert response.status_code < 500, where
    if 400 <= response.status_code < 500:
        assert _has_reason(response.json()), where


def _has_reason(body: object) -> bool:
    """A non-empty `reason` (ours: `error.reason`, or per rejected event) or FastAPI's `detail`."""
    if isinstance(body, dict):
        if isinstance(body.get("reason"), str) and body["reason"].strip() or body.get("detail"):
            return True
        return any(_has_reason(v) for v in body.values())
    if isinstance(body, list):
        return any(_has_reason(v) for v in body)
    return False
