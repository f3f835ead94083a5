"""The exposure benchmark in one step: simulate a platform, replay it through Seawall and through
the 2015 baseline, print one JSON object (and draw the plots). Same as

    seawall simulate --accounts N --days D --seed S --out DIR
    seawall bench exposure --sim DIR [--reviewers ...] [--plots docs/img]

    .venv/bin/python bench/exposure.py [--accounts 2000] [--days 2] [--seed 1] [--plots docs/img]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import orjson

from seawall.simulate import SimParams, simulate
from seawall.simulate.bench import run_exposure
from seawall.simulate.output import write_simulation
from seawall.simulate.seawall_arm import TeamConfig


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--accounts", type=int, default=2000)
    ap.add_argument("--days", type=float, default=2.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reviewers", type=int, default=4)
    ap.add_argument("--decisions-per-hour", type=float, default=60.0)
    ap.add_argument("--accuracy", type=float, default=0.95)
    ap.add_argument("--disable-signal", action="append", default=[])
    ap.add_argument("--plots", type=Path, default=None, help="directory for the PNG plots (default: none)")
    ap.add_argument("--sim", type=Path, default=None, help="keep the simulation here (default: a temporary directory)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="seawall-sim-") as tmp:
        out = args.sim or Path(tmp)
        write_simulation(simulate(SimParams(accounts=args.accounts, days=args.days, seed=args.seed)), out)
        result = run_exposure(out, TeamConfig(args.reviewers, args.decisions_per_hour, args.accuracy),
                              disable=tuple(args.disable_signal), plots=args.plots,
                              progress=lambda m: print(m, file=sys.stderr))
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
