"""`seawall simulate` and `seawall bench exposure`.

`simulate` is registered by seawall.cli from COMMANDS; `exposure` is added to the `bench` group
(see seawall.cli: BENCH_COMMANDS).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson


@click.command("simulate")
@click.option("--accounts", default=2000, show_default=True, type=click.IntRange(20, 1_000_000),
              help="Accounts on the platform at the start (returning accounts come on top).")
@click.option("--days", default=2.0, show_default=True, type=click.FloatRange(0.01, 60), help="Simulated days.")
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory for events.jsonl, truth.jsonl, truth.json and params.json.")
@click.option("--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="Override a parameter (see params.json and docs/simulator.md), e.g. --set network_share=0.05.")
def simulate_cmd(accounts: int, days: float, seed: int, out: Path, overrides: tuple[str, ...]) -> None:
    """Simulate a platform with an extremist network inside it: events plus ground truth."""
    from seawall.simulate.output import write_simulation
    from seawall.simulate.params import SimParams
    from seawall.simulate.platform import simulate

    values: dict[str, object] = {"accounts": accounts, "days": days, "seed": seed}
    defaults = SimParams().as_dict()
    for o in overrides:
        name, sep, raw = o.partition("=")
        if not sep or name not in defaults:
            raise click.BadParameter(f"{o!r}: expected NAME=VALUE with NAME one of the parameters in params.json",
                                     param_hint="--set")
        try:
            values[name] = type(defaults[name])(raw)
        except ValueError:
            raise click.BadParameter(f"{name}: {raw!r} is not a {type(defaults[name]).__name__}",
                                     param_hint="--set") from None
    try:
        params = SimParams(**{**defaults, **values})
        summary = write_simulation(simulate(params), out)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode())


@click.command("exposure")
@click.option("--sim", "sim_dir", required=True, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="A directory written by `seawall simulate`.")
@click.option("--reviewers", default=4, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--decisions-per-hour", default=60.0, show_default=True, type=click.FloatRange(0.01, 100_000),
              help="Decisions per reviewer per hour.")
@click.option("--accuracy", default=0.95, show_default=True, type=click.FloatRange(0, 1),
              help="Probability that a review decision is right (both arms).")
@click.option("--baseline-capacity", default=None, type=click.FloatRange(0, None),
              help="Referral unit items per week (default: ~1,000/week scaled to the simulated violating volume).")
@click.option("--config", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="A config.toml for Seawall's side (signals, rules); default: the packaged defaults.")
@click.option("--disable-signal", "disable", multiple=True, metavar="NAME",
              help="Turn a signal off for Seawall's side (to see what it contributes).")
@click.option("--plots", type=click.Path(file_okay=False, path_type=Path), default=Path("docs/img"),
              show_default=True, help="Directory for the PNG plots.")
@click.option("--no-plots", is_flag=True, help="Do not draw plots.")
@click.option("--shared-bank/--no-shared-bank", default=True, show_default=True,
              help="Import the simulation's shared_bank.csv (releases known before the window) as an industry hash list.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the review model's accuracy draws.")
def exposure_cmd(sim_dir: Path, reviewers: int, decisions_per_hour: float, accuracy: float,
                 baseline_capacity: float | None, config: Path | None, disable: tuple[str, ...], plots: Path,
                 no_plots: bool, shared_bank: bool, seed: int) -> None:
    """Replay a simulation through Seawall and through the 2015 baseline; print one JSON object."""
    from seawall.simulate.bench import run_exposure
    from seawall.simulate.seawall_arm import TeamConfig

    try:
        result = run_exposure(sim_dir, TeamConfig(reviewers, decisions_per_hour, accuracy), config=config,
                              disable=disable, baseline_capacity=baseline_capacity, plots=None if no_plots else plots,
                              seed=seed, shared_bank=shared_bank, progress=lambda m: click.echo(m, err=True))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    sys.stdout.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")


COMMANDS = [simulate_cmd]
BENCH_COMMANDS = [exposure_cmd]
