"""The bank, hash, match and bench commands, on a throwaway group (seawall.cli registers COMMANDS)."""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np
from click.testing import CliRunner
from PIL import Image

from seawall.banks.cli import COMMANDS


@click.group()
@click.option("--database", default=None)
@click.pass_context
def cli(ctx: click.Context, database: str | None) -> None:
    ctx.ensure_object(dict)
    ctx.obj["database"] = database


for _c in COMMANDS:
    cli.add_command(_c)


def _run(database_url: str, *args: str):  # noqa: ANN202
    r = CliRunner().invoke(cli, ["--database", database_url, *args], catch_exceptions=False)
    return r


def _image(path: Path) -> Path:
    rng = np.random.default_rng(3)
    small = rng.integers(0, 255, (6, 8, 3), dtype=np.uint8)
    Image.fromarray(small, "RGB").resize((320, 240), Image.Resampling.BICUBIC).save(path)
    return path


def test_bank_lifecycle_through_the_cli(database_url, settings, tmp_path):
    img = _image(tmp_path / "a.png")
    r = _run(database_url, "bank", "create", "tat", "--label", "terrorist_propaganda", "--source", "tcap")
    assert r.exit_code == 0, r.output
    assert _run(database_url, "bank", "create", "tat", "--label", "x").exit_code != 0
    r = _run(database_url, "bank", "add", "tat", "--file", str(img))
    assert r.exit_code == 0 and json.loads(r.output)["added"] == 3
    r = _run(database_url, "match", str(img))
    out = json.loads(r.output)
    assert {m["kind"] for m in out["matches"]} == {"sha256", "md5", "pdq"}
    assert all(m["label"] == "terrorist_propaganda" for m in out["matches"])
    csv = tmp_path / "in.csv"
    csv.write_text("kind,value,tags\nurl,https://bad.example/x,a\nmd5,nothex,\n")
    r = _run(database_url, "bank", "import", "tat", str(csv))
    rep = json.loads(r.output)
    assert rep["added"] == 1 and rep["errors"] == [{"line": 3, "reason": rep["errors"][0]["reason"]}]
    out_file = tmp_path / "out.jsonl"
    assert _run(database_url, "bank", "export", "tat", "--format", "jsonl", "--out", str(out_file)).exit_code == 0
    lines = [json.loads(x) for x in out_file.read_text().splitlines()]
    assert len(lines) == 4
    pdq_id = next(x["id"] for x in lines if x["kind"] == "pdq")
    r = _run(database_url, "bank", "disable", "tat", "--entry", str(pdq_id))
    assert json.loads(r.output)["status"] == "disabled"
    out = json.loads(_run(database_url, "match", str(img)).output)
    assert {m["kind"] for m in out["matches"]} == {"sha256", "md5"}
    assert _run(database_url, "bank", "disable", "tat", "--entry", "999999").exit_code != 0
    assert json.loads(_run(database_url, "bank", "disable", "tat").output)["enabled"] is False
    assert json.loads(_run(database_url, "match", str(img)).output)["matches"] == []
    listed = json.loads(_run(database_url, "bank", "list", "--json").output)
    assert listed[0]["entries"] == {"active": 3, "disabled": 1} and listed[0]["enabled"] is False
    assert "tat" in _run(database_url, "bank", "list").output


def test_hash_command_and_errors(tmp_path):
    img = _image(tmp_path / "b.png")
    r = CliRunner().invoke(cli, ["hash", str(img), "--dihedral"])
    out = json.loads(r.output)
    assert len(out["pdq"]) == 64 and out["quality"] >= 0 and len(out["dihedral"]) == 8
    r = CliRunner().invoke(cli, ["hash", str(tmp_path / "missing.png")])
    assert r.exit_code != 0 and "not_found" in r.output
    txt = tmp_path / "t.txt"
    txt.write_text("hello")
    out = json.loads(CliRunner().invoke(cli, ["hash", str(txt)]).output)
    assert "pdq" not in out and out["pdq_error"]["reason"] == "unsupported_format"


def test_bench_command_runs_the_seawall_engine():
    r = CliRunner().invoke(cli, ["bench", "match", "--hashes", "3000", "--queries", "50", "--only", "seawall"])
    out = json.loads(r.output)
    assert out["seawall"]["recall"] == 1.0 and out["seawall"]["disable_effective"] is True




def test_bench_text_option():
    r = CliRunner().invoke(cli, ["bench", "match", "--text", "--hashes", "2000", "--queries", "50"])
    out = json.loads(r.output)
    assert out["recall_2_of_20_edited"] >= 0.96 and out["texts"] == 2000
