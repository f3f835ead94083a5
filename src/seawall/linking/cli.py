"""`seawall link` and `seawall link-eval`. Registered by seawall.cli from COMMANDS."""

from __future__ import annotations

import json
from pathlib import Path

import click
import orjson

from seawall.linking.scoring import LINK_THRESHOLD


@click.command("link")
@click.option("--known", "known", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Seawall JSONL events of suspended accounts (their accounts, posts, follows).")
@click.option("--new", "new", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Seawall JSONL events of new accounts (account events and posts, in time order).")
@click.option("--first-posts", "first_posts", type=click.IntRange(min=0), default=None,
              help="Use at most K posts of each new account (0: profile only). Default: all.")
@click.option("--threshold", type=click.FloatRange(0, 1), default=LINK_THRESHOLD, show_default=True,
              help="Score from which `linked` names the best candidate.")
@click.option("--evidence", is_flag=True, help="Add each candidate's evidence (old vs new, side by side).")
def link_cmd(known: Path, new: Path, first_posts: int | None, threshold: float, evidence: bool) -> None:
    """Link new accounts to suspended ones: one JSON line per new account, best candidates first."""
    from seawall.linking.files import LinkInputError, link_files

    try:
        for p, cands, linked in link_files(known, new, first_posts, threshold):
            line = {"account_id": p.account_id, "candidates": [c.as_dict(evidence) for c in cands], "linked": linked}
            click.echo(orjson.dumps(line).decode())
    except LinkInputError as exc:
        raise click.ClickException(str(exc)) from None


@click.command("link-eval")
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=Path("../shared/data"), show_default=True, help="The shared data folder.")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--k", "ks", type=int, multiple=True, default=(0, 1, 5, 20), show_default=True,
              help="First-post counts to evaluate.")
@click.option("--simulate/--no-simulate", default=True, show_default=True,
              help="Also run the simulated platform (profiles, pictures, shout-outs, followers).")
@click.option("--fit", "fit_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Instead: fit the style term on the fit authors and write it to this JSON file.")
@click.option("--fit-behaviour", "fit_behaviour_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Instead: fit the behaviour term (given the shipped style term) on the fit authors and "
                   "write it to this JSON file.")
def link_eval_cmd(data: Path, seed: int, ks: tuple[int, ...], simulate: bool, fit_out: Path | None,
                  fit_behaviour_out: Path | None) -> None:
    """Evaluate the linker: the IRA timeline split, the Wikipedia ban-evasion pairs and a simulated
    platform (one JSON object)."""
    from seawall.linking.evaluate import fit_behaviour, fit_style, run_ira, run_wikipedia

    if not (data / "accounts" / "ira_tweets.jsonl.gz").exists():
        raise click.ClickException(f"--data: {data / 'accounts' / 'ira_tweets.jsonl.gz'} not found")
    if fit_out is not None:
        model = fit_style(data, seed=seed)
        fit_out.write_text(json.dumps(model, indent=2) + "\n")
        click.echo(json.dumps(model))
        return
    if fit_behaviour_out is not None:
        model = fit_behaviour(data, seed=seed)
        fit_behaviour_out.write_text(json.dumps(model, indent=2) + "\n")
        click.echo(json.dumps(model))
        return
    out = {"ira": run_ira(data, ks=tuple(ks), seed=seed), "wikipedia": run_wikipedia(data)}
    if simulate:
        from seawall.linking.simulate import simulate as run_simulation

        out["simulated"] = run_simulation()
    click.echo(json.dumps(out, indent=2))


COMMANDS = [link_cmd, link_eval_cmd]
