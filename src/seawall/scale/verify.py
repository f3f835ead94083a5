"""Checks that a run lost nothing and duplicated nothing, read from the system of record.

Used by the scale tests and `bench/scale.py`. Each figure is a count of violations of an invariant
that exactly-once processing guarantees (whatever the order workers took the events in):

- lost: accepted event keys with no stored event and no dead letter;
- duplicate_cases: events linked to more than one case of their own subject, subjects with more
  than one open case, post or account cases linked to no event (other kinds of case, such as
  campaigns, gather events of many subjects by design);
- case_count_mismatch: post or account cases whose event_count differs from the events linked to them (two
  workers merging into stale copies of one case: a lost update);
- duplicate_actions: the same effect twice: two removals of one subject, two escalations of one
  case, two suspensions of one account between restores, two actions of one kind from one event.
"""

from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import text
from sqlalchemy.engine import Engine

from seawall.storage.rows import _chunks

_DUPLICATE_CASES = """
SELECT
  (SELECT COALESCE(SUM(n - 1), 0) FROM (
     SELECT COUNT(*) AS n FROM case_events ce JOIN cases c ON c.id = ce.case_id JOIN events e ON e.pk = ce.event_pk
     WHERE c.subject_type = e.subject_type AND c.subject_id = e.subject_id GROUP BY ce.event_pk) e WHERE n > 1)
+ (SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM cases WHERE status = 'open'
                                         GROUP BY subject_type, subject_id) o WHERE n > 1)
+ (SELECT COUNT(*) FROM cases c WHERE c.subject_type IN ('post', 'account')
     AND NOT EXISTS (SELECT 1 FROM case_events ce WHERE ce.case_id = c.id))
"""
_CASE_MISMATCH = """
SELECT COUNT(*) FROM cases c
WHERE c.subject_type IN ('post', 'account')
  AND c.event_count <> (SELECT COUNT(*) FROM case_events ce WHERE ce.case_id = c.id)
"""
_DUPLICATE_ACTIONS = """
SELECT
  (SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM actions WHERE kind = 'remove'
                                         GROUP BY subject_type, subject_id) r WHERE n > 1)
+ (SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM actions WHERE kind = 'escalate'
                                         GROUP BY case_id) x WHERE n > 1)
+ (SELECT COALESCE(SUM(GREATEST(n - 1 - restores, 0)), 0) FROM (
     SELECT COUNT(*) AS n, COALESCE(MAX(a2.restore_count), 0) AS restores
     FROM actions a LEFT JOIN accounts a2 ON a2.id = a.subject_id
     WHERE a.kind = 'suspend' GROUP BY a.subject_id) s)
+ (SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM actions WHERE event_pk IS NOT NULL
                                         GROUP BY event_pk, kind) k WHERE n > 1)
"""


def exactly_once_report(engine: Engine, accepted_keys: Iterable[str] | None = None) -> dict[str, Any]:
    """Counts of violations (all 0 when nothing was lost or duplicated) and totals. PostgreSQL
    (GREATEST); `accepted_keys`, when given, are the keys the producer was told were accepted."""
    with engine.connect() as conn:
        events = int(conn.execute(text("SELECT COUNT(*) FROM events")).scalar() or 0)
        cases = int(conn.execute(text("SELECT COUNT(*) FROM cases")).scalar() or 0)
        actions = int(conn.execute(text("SELECT COUNT(*) FROM actions")).scalar() or 0)
        dead = int(conn.execute(text("SELECT COUNT(*) FROM dead_letters WHERE kind = 'failed'")).scalar() or 0)
        out: dict[str, Any] = {
            "processed": events,
            "failed_dead_letters": dead,
            "cases": cases,
            "actions": actions,
            "duplicate_cases": int(conn.execute(text(_DUPLICATE_CASES)).scalar() or 0),
            "case_count_mismatch": int(conn.execute(text(_CASE_MISMATCH)).scalar() or 0),
            "duplicate_actions": int(conn.execute(text(_DUPLICATE_ACTIONS)).scalar() or 0),
        }
        if accepted_keys is not None:
            keys = list(dict.fromkeys(accepted_keys))
            found = 0
            for chunk in _chunks(keys, 5000):
                found += int(conn.execute(
                    text("SELECT COUNT(*) FROM events WHERE key = ANY(:keys)"), {"keys": chunk}
                ).scalar() or 0)
            # A failed event is kept whole as a dead letter, not lost; the bench's events never fail.
            out["accepted"] = len(keys)
            out["lost"] = max(0, len(keys) - found - dead)
    return out
