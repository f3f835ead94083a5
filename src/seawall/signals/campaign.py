"""The `campaign` signal: is this post part of a campaign right now, and is a crisis on?

Wraps the campaign detector (seawall.campaigns.detector). Labels:

- `campaign`: the post joins a live campaign whose share of violating posts is high (a bursting
  hashtag or link, a text or link pushed by young accounts, a co-sharing cluster);
- `coordinated`: the same, without a high violating share (coordination, not yet abuse);
- `crisis`: the post carries a hashtag of the active crisis (seawall.campaigns.crisis).

Evidence: the campaign key, why (burst | young_accounts | cosharing), the window volume, the
baseline, the violating share, accounts and members so far.

The signal binds to the pipeline that runs it (`bind`): after each committed batch it learns which
posts were violating, records campaigns as cases with their members, and counts crisis volume;
at the start of a batch it polls the crisis state and, while a crisis is active, has the pipeline
decide with thresholds lowered. Unbound (a pipeline built by hand), it still scores posts by
volume, but learns no violating share and records nothing.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from typing import Any, Sequence

import orjson
from pydantic import Field
from sqlalchemy import select

from seawall.campaigns.detector import CampaignDetector
from seawall.campaigns.model import DetectorConfig
from seawall.campaigns.windows import WindowStore
from seawall.normalize.item import Item
from seawall.signals.base import Signal, SignalHit, SignalSettings

log = logging.getLogger("seawall.campaigns")


class CampaignSettings(SignalSettings):
    # Sliding window and baseline (seconds of stream time).
    window_seconds: float = Field(600.0, gt=0)
    baseline_tau_seconds: float = Field(21600.0, gt=0)
    retention_seconds: float = Field(86400.0, gt=0)
    prior_rate_per_hour: float = Field(6.0, gt=0)
    warmup_seconds: float = Field(1800.0, ge=0)
    # Burst of violating posts on a hashtag, URL or domain.
    min_volume: int = Field(20, ge=2)
    min_z: float = Field(4.0, ge=0)
    min_ratio: float = Field(3.0, ge=1)
    min_violating_share: float = Field(0.3, ge=0, le=1)
    min_violating: int = Field(3, ge=1)
    # The same text or URL from many young accounts.
    young_account_days: float = Field(30.0, gt=0)
    min_young_accounts: int = Field(5, ge=2)
    min_young_share: float = Field(0.6, ge=0, le=1)
    text_min_chars: int = Field(24, ge=1)
    # Co-sharing clusters.
    coshare_min_keys: int = Field(3, ge=1)
    cluster_min_accounts: int = Field(4, ge=2)
    coshare_max_key_accounts: int = Field(20, ge=2)
    coshare_max_expected: float = Field(2.0, ge=0)
    coshare_pair_ttl_seconds: float = Field(21600.0, gt=0)
    # What makes a post violating besides enforced verdicts (signal -> minimum score).
    violating_signals: dict[str, float] = Field(default_factory=lambda: {"classifier": 0.8, "hashbank": 0.75})
    # Record campaigns as cases (off: hits only).
    record: bool = True
    # How often (wall-clock seconds) the crisis state is read from the database.
    crisis_poll_seconds: float = Field(5.0, ge=0)


def detector_config(s: CampaignSettings) -> DetectorConfig:
    fields = DetectorConfig.__dataclass_fields__
    return DetectorConfig(**{k: getattr(s, k) for k in fields})


class CampaignSignal(Signal[CampaignSettings]):
    name = "campaign"
    version = "1"
    Settings = CampaignSettings

    def __init__(self, settings: CampaignSettings | None = None, windows: WindowStore | None = None):
        super().__init__(settings)
        self.detector = CampaignDetector(detector_config(self.settings), windows)
        self.pipeline: Any = None
        self._base: tuple[Any, str] | None = None  # the pipeline's own (engine, policy version)
        self.crisis: Any = None
        self._crisis_checked = -float("inf")
        self._crisis_tags: frozenset[str] = frozenset()
        self._age_checked: set[str] = set()

    def labels(self) -> set[str] | None:
        return {"campaign", "coordinated", "crisis"}

    # -- wiring -------------------------------------------------------------------------------------
    def bind(self, pipeline: Any) -> None:
        self.pipeline = pipeline
        self._base = (pipeline.engine, pipeline.policy_version)
        pipeline.listeners.append(self.committed)

    @property
    def engine(self) -> Any:
        return self.pipeline.store.engine if self.pipeline is not None else None

    # -- per batch ----------------------------------------------------------------------------------
    def evaluate(self, items: Sequence[Item]) -> list[list[SignalHit]]:
        if self.pipeline is not None:
            self._poll_crisis()
            self._learn_ages(items)
        found = self.detector.observe(items)
        if self.pipeline is None:
            self.detector.pending.clear()  # nobody records them
        out: list[list[SignalHit]] = []
        tags = self._crisis_tags
        hit = self.hit
        for item, fs in zip(items, found):
            hits = [hit(f.label, f.score, **f.evidence) for f in fs] if fs else []
            if tags and item.hashtags:
                matched = [h for h in item.hashtags if h in tags]
                if matched:
                    hits.append(hit("crisis", 1.0, incident=self.crisis.name, hashtags=matched))
            out.append(hits)
        return out

    def committed(self, decided: list[Any]) -> None:
        """After a batch is committed: violating feedback, campaign cases, crisis volume."""
        self.detector.feedback(decided)
        removed = [p.item.event.post_id for p in decided
                   if p.item.event.type == "enforcement" and p.item.event.action == "remove" and p.item.event.post_id]
        if removed:
            self._removed_by_platform(removed)
        updates = self.detector.drain()
        if updates and self.settings.record:
            from seawall.campaigns.store import record_updates

            try:
                record_updates(self.engine, updates)
            except Exception:  # noqa: BLE001 - never lose the pipeline over a campaign record
                log.exception("recording %d campaign updates failed", len(updates))
        if self.crisis is not None:
            self._count_crisis(decided)

    def _removed_by_platform(self, post_ids: list[str]) -> None:
        """Posts the platform itself removed are violating: read them back (rare events, one query)
        and feed them to the detector like a violating verdict."""
        from seawall.events import parse_event
        from seawall.normalize.item import Item
        from seawall.storage.schema import events

        try:
            with self.engine.connect() as conn:
                rows = conn.execute(select(events.c.key, events.c.payload).where(
                    (events.c.subject_type == "post") & (events.c.type == "post")
                    & events.c.subject_id.in_(sorted(set(post_ids))[:1000]))).all()
            items = [Item(parse_event(orjson.loads(payload)), key, 0.0) for key, payload in rows]
            self.pipeline.normalizer.normalize_batch(items)
        except Exception:  # noqa: BLE001 - feedback is a refinement; never fail the batch over it
            log.warning("could not read back posts removed by the platform", exc_info=True)
            return
        for item in items:
            self.detector.violating(item)

    # -- crisis -------------------------------------------------------------------------------------
    def _poll_crisis(self) -> None:
        now = time.monotonic()
        if now - self._crisis_checked < self.settings.crisis_poll_seconds:
            return
        self._crisis_checked = now
        from seawall.campaigns.crisis import active_crisis

        try:
            current = active_crisis(self.engine)
        except Exception:  # noqa: BLE001 - a database without the crisis table yet, or a blip
            log.warning("could not read the crisis state", exc_info=True)
            return
        before = self.crisis
        if (before.id if before else None) == (current.id if current else None):
            return
        self.crisis = current
        self._crisis_tags = frozenset(current.hashtags) if current else frozenset()
        self._switch_policy(current)

    def _switch_policy(self, crisis: Any) -> None:
        assert self._base is not None
        base_engine, base_version = self._base
        if crisis is None:
            self.pipeline.engine, self.pipeline.policy_version = base_engine, base_version
            log.warning("crisis over: deciding with the normal thresholds")
            return
        from seawall.campaigns.crisis import lowered_ruleset
        from seawall.policy import PolicyEngine

        ruleset = lowered_ruleset(base_engine.ruleset, crisis.threshold_delta, crisis.signals)
        self.pipeline.engine = PolicyEngine(ruleset)
        self.pipeline.policy_version = f"{base_version}+crisis:{crisis.name}"[:64]
        log.warning("crisis %s active: thresholds of %s lowered by %g", crisis.name, ", ".join(crisis.signals),
                    crisis.threshold_delta)

    def _count_crisis(self, decided: list[Any]) -> None:
        from seawall.campaigns.crisis import add_volume, minute_of

        crisis, tags = self.crisis, self._crisis_tags
        minutes: dict[datetime, list[int]] = {}
        for p in decided:
            ev = p.item.event
            if ev.type != "post":
                continue
            by_tag = bool(tags) and any(h in tags for h in p.item.hashtags)
            by_bank = bool(crisis.bank) and any(
                h.signal == "hashbank" and h.evidence.get("bank") == crisis.bank for h in p.hits)
            if by_tag or by_bank:
                c = minutes.setdefault(minute_of(ev.created_at), [0, 0, 0])
                c[0] += 1
                c[1] += by_tag
                c[2] += by_bank
        if minutes:
            try:
                add_volume(self.engine, crisis.id, minutes)
            except Exception:  # noqa: BLE001
                log.exception("counting crisis volume failed")

    # -- account ages -------------------------------------------------------------------------------
    def _learn_ages(self, items: Sequence[Item]) -> None:
        """Creation times of authors this process has not seen an account event for, from the
        accounts table (one query per batch, each account asked once)."""
        known, checked = self.detector.created, self._age_checked
        wanted = {it.event.account_id for it in items if it.event.type == "post"} - checked
        wanted -= known.keys()
        # Accounts whose account event is in this same batch are learnt by the detector itself.
        wanted -= {it.event.id for it in items if it.event.type == "account"}
        if not wanted:
            return
        if len(checked) > 500_000:
            checked.clear()
        from seawall.storage.rows import _chunks
        from seawall.storage.schema import accounts

        young = self.detector.young_seconds
        try:
            with self.engine.connect() as conn:
                for chunk in _chunks(sorted(wanted)):
                    q = select(accounts.c.id, accounts.c.created_at).where(accounts.c.id.in_(chunk))
                    for aid, created in conn.execute(q).all():
                        # Asked once if stored; an account not stored yet (its sign-up may be in
                        # another worker's batch right now) is asked again with its next post.
                        checked.add(aid)
                        if created is None:
                            continue
                        c = (created if created.tzinfo else created.replace(tzinfo=timezone.utc)).timestamp()
                        if self.detector.now - c < young or self.detector.now == -float("inf"):
                            known[aid] = c
        except Exception:  # noqa: BLE001 - ages are a refinement; never fail the batch over them
            log.warning("could not read account ages", exc_info=True)
