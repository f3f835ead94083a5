"""Writing and reading a simulation directory:

    events.jsonl   Seawall events in time order (what a platform would stream)
    truth.jsonl    ground truth, one record per line: accounts (role, person, number), violating
                   posts (category, reach), media (release, original / exact / edited and the edit),
                   returns (old account -> new account, gap, first post)
    truth.json     the summary: counts by kind, returns, parameters' derived figures
    params.json    the parameters, with the source of each value
    shared_bank.csv  hashes of the releases known before the window, as an industry hash list
                   would carry them (`seawall bank import NAME shared_bank.csv`)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from seawall.simulate.params import SOURCES, SimParams
from seawall.simulate.platform import Simulation

EVENTS = "events.jsonl"
TRUTH = "truth.jsonl"
SUMMARY = "truth.json"
PARAMS = "params.json"
SHARED_BANK = "shared_bank.csv"


def write_simulation(sim: Simulation, out: Path) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    _atomic(out / EVENTS, b"".join(orjson.dumps(ev) + b"\n" for ev in sim.events))
    _atomic(out / TRUTH, b"".join(orjson.dumps(rec) + b"\n" for rec in sim.truth))
    _atomic(out / SUMMARY, orjson.dumps(sim.summary, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
    rows = ["kind,value,tags,note"] + [f"{m['kind']},{m['value']},terrorist_propaganda,{m['note']}" for m in sim.known_media]
    _atomic(out / SHARED_BANK, ("\n".join(rows) + "\n").encode())
    params = {"params": sim.params.as_dict(), "sources": SOURCES}
    _atomic(out / PARAMS, orjson.dumps(params, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
    return {"out": str(out), **sim.summary}


def _atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


@dataclass(slots=True)
class SimDir:
    """A simulation read back for the benchmark."""

    path: Path
    params: SimParams
    summary: dict[str, Any]
    truth: list[dict[str, Any]]

    @property
    def events_path(self) -> Path:
        return self.path / EVENTS


def read_simulation(path: Path) -> SimDir:
    for name in (EVENTS, TRUTH, PARAMS):
        if not (path / name).is_file():
            raise ValueError(f"{path}: not a simulation directory ({name} is missing; run `seawall simulate --out {path}`)")
    params = SimParams.from_dict(orjson.loads((path / PARAMS).read_bytes())["params"])
    summary = orjson.loads((path / SUMMARY).read_bytes()) if (path / SUMMARY).is_file() else {}
    truth = [orjson.loads(line) for line in (path / TRUTH).read_bytes().splitlines() if line.strip()]
    return SimDir(path, params, summary, truth)
