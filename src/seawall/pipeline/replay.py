"""Replay a file of events through the pipeline and say what happened to every line."""

from __future__ import annotations

import gzip
import time
from collections import Counter
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from seawall.ingest.intake import Intake, read_lines
from seawall.pipeline.pipeline import Batch, Pipeline

MAX_LISTED_REJECTIONS = 20


def open_events_file(path: Path) -> BinaryIO:
    if path.suffix == ".gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def replay_stream(
    pipeline: Pipeline, stream: BinaryIO, fmt: str = "seawall", source: str = "replay", batch_size: int = 1000
) -> dict[str, Any]:
    intake = Intake(fmt, source=source)
    started = time.perf_counter()
    counts: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    examples: list[dict[str, Any]] = []

    def batches() -> Iterator[Batch]:
        for chunk in read_lines(stream, batch_size):
            counts["lines"] += len(chunk)
            res = intake.accept_lines(chunk)
            counts["events_read"] += len(res.items)
            if res.rejected:
                counts["rejected"] += len(res.rejected)
                pipeline.store.add_dead_letters(res.rejected)
                for d in res.rejected:
                    reasons[f"{d.field}: {d.reason}" if d.field else d.reason] += 1
                    if len(examples) < MAX_LISTED_REJECTIONS:
                        examples.append({"line": d.line_no, "field": d.field, "reason": d.reason})
            for i in range(0, len(res.items), batch_size):
                yield Batch(res.items[i : i + batch_size], source)

    run = pipeline.run_stream(batches())
    lines, events_read, rejected = counts["lines"], counts["events_read"], counts["rejected"]
    elapsed = time.perf_counter() - started
    return {
        "source": source,
        "format": fmt,
        "lines": lines,
        "events_read": events_read,
        "accepted": run.accepted,
        "duplicates": run.duplicates,
        "failed": run.failed,
        "rejected": rejected,
        "rejected_reasons": dict(reasons.most_common(20)),
        "rejections": examples,
        "verdicts": dict(sorted(run.verdicts.items())),
        "signal_hits": run.hits,
        "cases_opened": run.cases_opened,
        "cases_merged": run.cases_merged,
        "actions_created": run.actions_created,
        "elapsed_s": round(elapsed, 3),
        "events_per_s": round(events_read / elapsed, 1) if elapsed > 0 else None,
    }


def replay_file(pipeline: Pipeline, path: Path, fmt: str = "seawall", batch_size: int = 1000) -> dict[str, Any]:
    with open_events_file(path) as stream:
        summary = replay_stream(pipeline, stream, fmt, f"replay:{path.name}", batch_size)
    return {"file": str(path), **summary}
