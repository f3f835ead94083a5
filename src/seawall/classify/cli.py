"""`seawall train`, `seawall eval`, `seawall score`: click commands (registered by seawall.cli)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from seawall.classify.datasets import LABELS, default_data_dir


def _data_dir(data: str | None) -> Path:
    return Path(data) if data else default_data_dir()


def _log(msg: str) -> None:
    click.echo(msg, err=True)


@click.command("train")
@click.option("--data", "data", type=click.Path(exists=True), default=None,
              help="Data folder (default: $SEAWALL_SHARED_DATA or ../shared/data) or one user CSV/JSONL file.")
@click.option("--out", "out", type=click.Path(file_okay=False), default=None,
              help="Where to write the model files (default: the package's data/models).")
@click.option("--bits", default=19, show_default=True, help="log2 of the number of hash buckets.")
@click.option("--l2", default=1e-6, show_default=True, help="L2 regularisation strength.")
@click.option("--max-iter", default=150, show_default=True)
@click.option("--second-stage/--no-second-stage", default=False, show_default=True,
              help="Also train the stage-2 word CNN for threats (needs PyTorch: pip install 'seawall[train]').")
@click.option("--metrics", "metrics_path", type=click.Path(dir_okay=False), default=None,
              help="Metrics JSON path (default: OUT/metrics.json).")
def train(data, out, bits, l2, max_iter, second_stage, metrics_path):
    """Train the classifiers on labelled data, split by group; write model files and metrics."""
    from seawall.classify.cascade import FIRST_STAGE_FILE, models_dir
    from seawall.classify.datasets import load_rows
    from seawall.classify.features import HashingFeaturizer
    from seawall.classify.report import evaluate_all
    from seawall.classify.train import prepare, train_first_stage

    out_dir = Path(out) if out else models_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = load_rows(_data_dir(data))
    if not rows:
        raise click.ClickException(f"no labelled rows found in {_data_dir(data)}")
    _log(f"{len(rows)} rows")
    fz = HashingFeaturizer(bits=bits)
    prep = prepare(rows, fz, log=_log)
    labels = [lab for lab in LABELS if any(lab in r.labels and r.labels[lab] for r in prep.rows)]
    model = train_first_stage(prep, fz, labels=labels, l2=l2, max_iter=max_iter, log=_log)
    model.save(out_dir / FIRST_STAGE_FILE)
    _log(f"wrote {out_dir / FIRST_STAGE_FILE}")
    if second_stage:
        try:
            import torch  # noqa: F401
        except ImportError:
            raise click.ClickException("--second-stage needs PyTorch for training: pip install 'seawall[train]'")
        from seawall.classify.stage2 import train_second_stage

        train_second_stage(model, prep, out_dir, log=_log)
    metrics = evaluate_all(model, prep, log=_log, model_dir=out_dir)
    mp = Path(metrics_path) if metrics_path else out_dir / "metrics.json"
    mp.write_text(json.dumps(metrics, indent=1, sort_keys=True))
    _log(f"wrote {mp}")


@click.command("eval")
@click.option("--data", "data", type=click.Path(exists=True), default=None,
              help="Data folder (default: $SEAWALL_SHARED_DATA or ../shared/data) or one user CSV/JSONL file.")
@click.option("--models", "model_dir", type=click.Path(file_okay=False), default=None,
              help="Model folder (default: the shipped models).")
@click.option("--no-obfuscated", is_flag=True, help="Skip the obfuscated copies of the test sets.")
@click.option("--second-stage/--no-second-stage", default=True, show_default=True,
              help="Measure the cascade too when a stage-2 head (stage2.npz) is present.")
@click.option("--out", "out", type=click.Path(dir_okay=False), default=None, help="Also write the JSON here.")
def eval_(data, model_dir, no_obfuscated, second_stage, out):
    """Evaluate the models on the held-out test split: per label, data set and language."""
    from seawall.classify.cascade import FIRST_STAGE_FILE, models_dir
    from seawall.classify.datasets import load_rows
    from seawall.classify.linear import LinearModel
    from seawall.classify.report import evaluate_all
    from seawall.classify.train import prepare

    d = Path(model_dir) if model_dir else models_dir()
    model = LinearModel.load(d / FIRST_STAGE_FILE)
    rows = load_rows(_data_dir(data))
    if not rows:
        raise click.ClickException(f"no labelled rows found in {_data_dir(data)}")
    prep = prepare(rows, model.featurizer, log=_log)
    metrics = evaluate_all(model, prep, log=_log, obfuscated=not no_obfuscated,
                           model_dir=d if second_stage else None)
    text = json.dumps(metrics, indent=1, sort_keys=True)
    if out:
        Path(out).write_text(text)
    click.echo(text)


@click.command("score")
@click.argument("file", type=click.File("rb"))
@click.option("--format", "fmt", default="seawall", show_default=True,
              help="Input format (seawall, twitter_v1, mastodon, atproto).")
@click.option("--models", "model_dir", type=click.Path(file_okay=False), default=None)
@click.option("--second-stage/--no-second-stage", default=True, show_default=True)
def score(file, fmt, model_dir, second_stage):
    """Score every post (and account profile) in FILE: one JSON line per event on stdout."""
    from seawall.classify.cascade import shared_cascade
    from seawall.classify.train import classifier_skeleton
    from seawall.ingest.intake import Intake
    from seawall.normalize.text import normalize_text

    cascade = shared_cascade(model_dir, second_stage)
    intake = Intake(fmt, source="score")
    result = intake.accept_lines((n + 1, line.rstrip(b"\r\n")) for n, line in enumerate(file) if line.strip())
    ids, skel, texts = [], [], []
    for item in result.items:
        ev = item.event
        raw = getattr(ev, "text", None)
        if raw is None and getattr(ev, "type", "") == "account":
            raw = " ".join(x for x in (ev.display_name, ev.bio) if x)
        if raw is None:
            continue
        nt = normalize_text(raw)
        ids.append(getattr(ev, "id", None) or item.key)
        skel.append(classifier_skeleton(nt.text, nt.skeleton))
        texts.append(nt.text)
    res = cascade.score(skel, texts)
    w = sys.stdout.write
    for i, pid in enumerate(ids):
        w(json.dumps({"id": pid, "scores": {lab: round(float(res.scores[i, j]), 4)
                                            for j, lab in enumerate(cascade.labels)}}) + "\n")
    for dl in result.rejected:
        click.echo(f"line {dl.line_no}: rejected: {dl.reason}", err=True)


COMMANDS = [train, eval_, score]
