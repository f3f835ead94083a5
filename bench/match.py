"""Benchmark Seawall's PDQ index against python-threatexchange's PDQIndex on the same bank.

    .venv/bin/python bench/match.py --hashes 10000000 --queries 10000

Prints one JSON object (see seawall.banks.benchmark for what each figure means). Needs the bench
extra for the pytx side: pip install -e '.[bench]'.
"""

from seawall.banks.benchmark import main

if __name__ == "__main__":
    raise SystemExit(main())
