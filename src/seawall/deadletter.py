"""Dead letters: inputs Seawall kept but could not use, for an operator to inspect and replay.

Two kinds: `rejected` (bad input: malformed JSON, a missing field...) and `failed` (accepted, but
processing raised). Replaying runs the stored raw input through intake and the pipeline again
(after a fix to an adapter, a list or the data); what still fails stays open with its new reason.
"""

from __future__ import annotations

from typing import Any, Sequence

from seawall.events import EventError
from seawall.ingest.intake import Intake, decode_json_line
from seawall.pipeline.pipeline import Pipeline, RunSummary
from seawall.storage.base import DeadLetter

PAGE = 500


def open_letters(pipeline: Pipeline, ids: Sequence[int] | None) -> list[DeadLetter]:
    wanted = set(ids or ())
    found: list[DeadLetter] = []
    after = 0
    while True:
        page = pipeline.store.list_dead_letters("open", None, PAGE, after)
        if not page:
            return found
        found.extend(d for d in page if not wanted or d.id in wanted)
        after = page[-1].id or after


def replay_dead_letters(pipeline: Pipeline, ids: Sequence[int] | None = None) -> dict[str, Any]:
    store = pipeline.store
    run = RunSummary()
    replayed: list[int] = []
    still: list[dict[str, Any]] = []
    for letter in open_letters(pipeline, ids):
        intake = Intake(letter.format, source=f"deadletter:{letter.id}")
        try:
            obj = decode_json_line(letter.raw.encode("utf-8", errors="surrogateescape"))
        except EventError as exc:
            still.append({"id": letter.id, "field": exc.field, "reason": exc.reason})
            continue
        result = intake.accept_objects([(letter.line_no, obj, letter.raw)])
        if result.rejected:
            r = result.rejected[0]
            still.append({"id": letter.id, "field": r.field, "reason": r.reason})
            continue
        summary = pipeline.run(result.items, intake.source)
        run.merge(summary)
        if summary.failed:
            still.append({"id": letter.id, "field": None, "reason": "processing failed again (see the new dead letter)"})
        replayed.append(letter.id)  # type: ignore[arg-type]
    store.mark_dead_letters(replayed, "replayed")
    if still:
        store.mark_dead_letters([s["id"] for s in still], "open")
    return {
        "replayed": len(replayed),
        "still_failing": still,
        "accepted": run.accepted,
        "duplicates": run.duplicates,
        "verdicts": run.verdicts,
    }
