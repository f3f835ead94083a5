"""Crisis mode: a named incident (an attack being livestreamed, its video and manifesto spreading)
switches on an incident hash bank and lowers rule thresholds until it is stopped.

- `start_crisis` records the incident, enables its bank (remembering whether it was enabled before,
  to restore on stop) and names the hashtags that define its traffic.
- While it is active, the `campaign` signal (bound to the running pipeline) decides with a copy
  of the rules whose score thresholds on the chosen signals (default: classifier and campaign) are
  lowered by `threshold_delta`, and marks posts carrying the incident's hashtags with a `crisis`
  hit. The change is applied at the start of the next batch after the state is polled (every few
  seconds), in every process running a pipeline on the same database; decisions made under it
  carry `+crisis:<name>` in their policy version.
- Matching posts (by hashtag, or by a hit from the incident bank) are counted per minute of stream
  time in `crisis_volume`: the dashboard's series (dashboard.py).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Sequence

import orjson
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from seawall.campaigns.schema import crises, crisis_volume
from seawall.campaigns.store import upsert
from seawall.normalize.entities import normalize_hashtag
from seawall.policy.conditions import AllOf, AnyOf, Condition, NotCond, SignalCond
from seawall.policy.rules import RuleSet
from seawall.storage.rows import _now, _utc

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
DEFAULT_SIGNALS = ("classifier", "campaign")
MIN_THRESHOLD = 0.05  # a lowered threshold never reaches "any score at all"


class CrisisError(ValueError):
    def __init__(self, field: str, reason: str):
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


@dataclass(frozen=True, slots=True)
class Crisis:
    id: int
    name: str
    status: str
    bank: str | None
    threshold_delta: float
    hashtags: tuple[str, ...]
    signals: tuple[str, ...]
    started_at: datetime
    stopped_at: datetime | None
    started_by: str
    stopped_by: str | None

    def as_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["hashtags"], d["signals"] = list(self.hashtags), list(self.signals)
        for k in ("started_at", "stopped_at"):
            d[k] = d[k].isoformat() if d[k] else None
        return d


def _crisis(r: Any) -> Crisis:
    return Crisis(int(r["id"]), r["name"], r["status"], r["bank"], float(r["threshold_delta"]),
                  tuple(orjson.loads(r["hashtags"])), tuple(orjson.loads(r["signals"])),
                  _utc(r["started_at"]), _utc(r["stopped_at"]), r["started_by"], r["stopped_by"])  # type: ignore[arg-type]


def active_crisis(engine: Engine) -> Crisis | None:
    with engine.connect() as conn:
        r = conn.execute(select(crises).where(crises.c.status == "active")).mappings().first()
    return _crisis(r) if r is not None else None


def list_crises(engine: Engine, limit: int = 20) -> list[Crisis]:
    with engine.connect() as conn:
        rows = conn.execute(select(crises).order_by(crises.c.id.desc()).limit(limit)).mappings().all()
    return [_crisis(r) for r in rows]


def start_crisis(store: Any, name: str, actor: str, bank: str | None = None, threshold_delta: float = 0.1,
                 hashtags: Iterable[str] = (), signals: Sequence[str] = DEFAULT_SIGNALS) -> Crisis:
    if not isinstance(name, str) or not NAME.match(name):
        raise CrisisError("name", "lower-case letters, digits, '-' and '_' only, 1 to 64 characters, e.g. 2019-03-christchurch")
    if not (0.0 < threshold_delta <= 0.5):
        raise CrisisError("lower_thresholds", f"{threshold_delta} is out of range: more than 0 and at most 0.5")
    tags = sorted({normalize_hashtag(h) for h in hashtags if h.strip().lstrip("#")})
    if not signals:
        raise CrisisError("signals", "name at least one signal whose thresholds are lowered")
    was_enabled: bool | None = None
    if bank:
        from seawall.banks.store import BankStore

        banks = BankStore(store.engine)
        found = banks.get_bank(bank)
        if found is None:
            raise CrisisError("bank", f"no bank named {bank!r} (create it with `seawall bank create`)")
        was_enabled = bool(found.enabled)
    now = _now()
    try:
        with store.engine.begin() as conn:
            cid = conn.execute(crises.insert().returning(crises.c.id), {
                "name": name, "status": "active", "bank": bank, "bank_was_enabled": was_enabled,
                "threshold_delta": float(threshold_delta), "hashtags": orjson.dumps(tags).decode(),
                "signals": orjson.dumps(list(signals)).decode(), "started_at": now, "stopped_at": None,
                "started_by": actor[:200], "stopped_by": None,
            }).scalar_one()
            _audit(conn, actor, "crisis.start", f"crisis:{name}",
                   {"bank": bank, "threshold_delta": threshold_delta, "hashtags": tags, "signals": list(signals)})
    except IntegrityError:
        current = active_crisis(store.engine)
        raise CrisisError("name", f"crisis {current.name if current else '?'!r} is already active; stop it first") from None
    if bank and not was_enabled:
        BankStore(store.engine).set_bank_enabled(bank, True)
    found_crisis = active_crisis(store.engine)
    assert found_crisis is not None and found_crisis.id == cid
    return found_crisis


def stop_crisis(store: Any, actor: str) -> Crisis:
    current = active_crisis(store.engine)
    if current is None:
        raise CrisisError("crisis", "no crisis is active")
    now = _now()
    with store.engine.begin() as conn:
        conn.execute(update(crises).where(crises.c.id == current.id).values(status="stopped", stopped_at=now,
                                                                             stopped_by=actor[:200]))
        was = conn.execute(select(crises.c.bank_was_enabled).where(crises.c.id == current.id)).scalar()
        _audit(conn, actor, "crisis.stop", f"crisis:{current.name}", {})
    if current.bank and was is False:
        from seawall.banks.store import BankError, BankStore

        try:
            BankStore(store.engine).set_bank_enabled(current.bank, False)  # as it was before the crisis
        except BankError:
            pass  # the bank was deleted meanwhile
    return dataclasses.replace(current, status="stopped", stopped_at=now, stopped_by=actor[:200])


def _audit(conn: Any, actor: str, action: str, target: str, details: dict[str, Any]) -> None:
    try:
        from seawall.audit import record
    except ImportError:  # the audit log is optional
        return
    record(conn, actor=actor, action=action, target=target, details=details)


# -- lowered thresholds --------------------------------------------------------------------------------
def lowered_ruleset(ruleset: RuleSet, delta: float, signals: Iterable[str]) -> RuleSet:
    """A copy of `ruleset` where every `min_score` on the named signals is lowered by `delta`
    (never below MIN_THRESHOLD); everything else is unchanged."""
    names = frozenset(signals)

    def lower(cond: Condition) -> Condition:
        if isinstance(cond, SignalCond):
            if cond.signal in names and cond.min_score is not None:
                return cond.model_copy(update={"min_score": max(MIN_THRESHOLD, round(cond.min_score - delta, 6))})
            return cond
        if isinstance(cond, (AllOf, AnyOf)):
            return dataclasses.replace(cond, children=tuple(lower(c) for c in cond.children))
        if isinstance(cond, NotCond):
            return cond  # lowering inside a negation would make the rule stricter, not looser
        return cond

    rules = tuple(dataclasses.replace(r, when=lower(r.when)) for r in ruleset.rules)
    return dataclasses.replace(ruleset, rules=rules, digest=f"{ruleset.digest}+{delta:g}")


# -- volume --------------------------------------------------------------------------------------------
def add_volume(engine: Engine, crisis_id: int, minutes: dict[datetime, list[int]]) -> None:
    """Add per-minute counts ([posts, by_hashtag, by_bank]) to the crisis's series."""
    if not minutes:
        return
    with engine.begin() as conn:
        stmt = upsert(conn, crisis_volume)
        stmt = stmt.on_conflict_do_update(
            index_elements=["crisis_id", "minute"],
            set_={"posts": crisis_volume.c.posts + stmt.excluded.posts,
                  "by_hashtag": crisis_volume.c.by_hashtag + stmt.excluded.by_hashtag,
                  "by_bank": crisis_volume.c.by_bank + stmt.excluded.by_bank},
        )
        conn.execute(stmt, [{"crisis_id": crisis_id, "minute": m, "posts": v[0], "by_hashtag": v[1], "by_bank": v[2]}
                            for m, v in sorted(minutes.items())])


def volume_series(engine: Engine, crisis_id: int, limit: int = 1440) -> list[dict[str, Any]]:
    """The last `limit` minutes that had matching posts, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(select(crisis_volume).where(crisis_volume.c.crisis_id == crisis_id)
                            .order_by(crisis_volume.c.minute.desc()).limit(limit)).mappings().all()
    return [{"minute": _utc(r["minute"]).isoformat(), "posts": r["posts"], "by_hashtag": r["by_hashtag"],  # type: ignore[union-attr]
             "by_bank": r["by_bank"]} for r in reversed(rows)]


def crisis_report(store: Any, name: str | None = None, limit: int = 1440) -> dict[str, Any]:
    """The active crisis (or the named one, latest first) with its per-minute volume."""
    if name is None:
        current = active_crisis(store.engine)
    else:
        with store.engine.connect() as conn:
            r = conn.execute(select(crises).where(crises.c.name == name).order_by(crises.c.id.desc())).mappings().first()
        current = _crisis(r) if r is not None else None
    if current is None:
        return {"active": False, "crisis": None, "volume": [], "total_posts": 0,
                "recent": [c.as_dict() for c in list_crises(store.engine, 5)]}
    series = volume_series(store.engine, current.id, limit)
    return {"active": current.status == "active", "crisis": current.as_dict(), "volume": series,
            "total_posts": sum(p["posts"] for p in series)}


def minute_of(t: datetime) -> datetime:
    return t.astimezone(timezone.utc).replace(second=0, microsecond=0)


__all__ = ["Crisis", "CrisisError", "active_crisis", "add_volume", "crisis_report", "lowered_ruleset", "start_crisis",
           "stop_crisis", "volume_series"]
