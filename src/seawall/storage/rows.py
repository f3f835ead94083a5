"""Row helpers shared by the SQL store's writes and reads: JSON text, UTC times, chunked IN lists,
and rows turned into the API's JSON shapes."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterator, Sequence

import orjson

_IN_CHUNK = 500  # keys per IN (...) clause: well under SQLite's variable limit


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _utc(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything Seawall stores is UTC.
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _ts(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _chunks(seq: Sequence[Any], n: int = _IN_CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def _plain(row: Any) -> dict[str, Any]:
    """A row as JSON-ready values (times as ISO 8601 UTC)."""
    return {k: (_utc(v).isoformat() if isinstance(v, datetime) else v) for k, v in dict(row).items()}


def _case_dict(r: Any) -> dict[str, Any]:
    return {
        "id": r["id"],
        "subject": {"type": r["subject_type"], "id": r["subject_id"]},
        "account_id": r["account_id"],
        "status": r["status"],
        "queue": r["queue"],
        "priority": r["priority"],
        "verdict": r["verdict"],
        "labels": orjson.loads(r["labels"]),
        "rules": orjson.loads(r["rules"]),
        "event_count": r["event_count"],
        "opened_at": _utc(r["opened_at"]).isoformat(),
        "updated_at": _utc(r["updated_at"]).isoformat(),
    }


def _percentiles(sorted_values: list[float]) -> dict[str, float | None]:
    if not sorted_values:
        return {"p50": None, "p99": None, "max": None, "n": 0}
    n = len(sorted_values)
    pick = lambda q: round(sorted_values[min(n - 1, int(q * n))], 3)  # noqa: E731
    return {"p50": pick(0.50), "p99": pick(0.99), "max": round(sorted_values[-1], 3), "n": n}
