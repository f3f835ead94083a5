"""`seawall bank ...` (create, import, export, add, disable, list, sweep), `seawall hash FILE`, `seawall match FILE`, `seawall bench match`.

Registered by seawall.cli from COMMANDS. The commands read `--database` from the parent group's
context object (`ctx.obj["database"]`) like every other seawall command.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import orjson


VIDEO_SUFFIXES = {".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi", ".mpg", ".mpeg", ".ts", ".flv"}


def _emit(data: Any) -> None:
    click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode())


def _bank_store(ctx: click.Context):  # noqa: ANN202
    from seawall.banks.store import BankStore
    from seawall.config import ConfigError, load_settings
    from seawall.storage.sql import open_store

    try:
        settings = load_settings(database=(ctx.obj or {}).get("database"))
        store = open_store(settings.database_url)
    except (ConfigError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    return BankStore(store.engine)


def _audit(bank_store: Any, action: str, target: str, details: dict[str, Any]) -> None:
    # Bank changes alter what gets removed: they are setting changes, audited like key changes.
    from seawall.audit import record
    from seawall.audit.cli import cli_actor

    with bank_store.engine.begin() as conn:
        record(conn, actor=cli_actor(), action=action, target=target, details=details)


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


@click.group()
def bank() -> None:
    """Hash banks: known content (PDQ, MD5, SHA-256, URLs, texts) with labels."""


@bank.command("create")
@click.argument("name")
@click.option("--label", required=True, help="What a match means; the label of the signal hit (e.g. terrorist_propaganda).")
@click.option("--kind", type=click.Choice(["block", "negative"]), default="block", show_default=True,
              help="negative = known false positives: a match suppresses block hits for that media.")
@click.option("--source", default=None, help="Who supplied the bank (e.g. tat-tcap, gifct, own-removals).")
@click.option("--severity", type=click.Choice(["low", "medium", "high", "critical"]), default="high", show_default=True)
@click.option("--dihedral/--no-dihedral", default=False, help="Also match flipped and rotated copies.")
@click.option("--pdq-threshold", type=click.IntRange(0, 31), default=31, show_default=True)
@click.option("--description", default=None)
@click.option("--tag", "tags", multiple=True)
@click.pass_context
def bank_create(ctx: click.Context, name: str, label: str, kind: str, source: str | None, severity: str,
                dihedral: bool, pdq_threshold: int, description: str | None, tags: tuple[str, ...]) -> None:
    """Create a bank."""
    from seawall.banks.model import BankError

    try:
        b = _bank_store(ctx).create_bank(name, label, kind=kind, source=source, severity=severity, dihedral=dihedral,
                                         pdq_threshold=pdq_threshold, description=description, tags=tags)
    except BankError as exc:
        raise _fail(exc) from None
    _audit(_bank_store(ctx), "bank.create", f"bank:{name}", b.as_dict())
    _emit(b.as_dict())


@bank.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def bank_list(ctx: click.Context, as_json: bool) -> None:
    """List banks with their entry counts by status."""
    banks = _bank_store(ctx).list_banks()
    if as_json:
        _emit([b.as_dict() for b in banks])
        return
    for b in banks:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(b.entry_counts.items())) or "empty"
        state = "enabled" if b.enabled else "DISABLED"
        click.echo(f"{b.name}\t{b.kind}\t{b.label}\t{b.severity}\t{state}\t{counts}")


@bank.command("import")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "te", "tcap"]), default=None,
              help="csv (kind,value,...), jsonl, te (ThreatExchange/HMA: type,value,tags), tcap (TCAP CSV). "
                   "Default: from the file name.")
@click.pass_context
def bank_import(ctx: click.Context, name: str, file: Path, fmt: str | None) -> None:
    """Import entries into a bank; bad rows are listed by line and good rows still load."""
    import gzip

    from seawall.banks.io import guess_format, import_entries
    from seawall.banks.model import BankError

    data = file.read_bytes()
    if file.suffix == ".gz":
        data = gzip.decompress(data)
    store = _bank_store(ctx)
    try:
        report = import_entries(store, name, data, fmt or guess_format(file.name))
    except BankError as exc:
        raise _fail(exc) from None
    _audit(store, "bank.import", f"bank:{name}", {"file": file.name, "added": report.as_dict().get("added")})
    _emit(report.as_dict())


@bank.command("export")
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "te", "tcap"]), default="csv", show_default=True)
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Default: stdout.")
@click.option("--status", type=click.Choice(["active", "disabled", "quarantined", "all"]), default="active", show_default=True)
@click.pass_context
def bank_export(ctx: click.Context, name: str, fmt: str, out: Path | None, status: str) -> None:
    """Export a bank's entries."""
    from seawall.banks.io import export
    from seawall.banks.model import BankError

    store = _bank_store(ctx)
    try:
        entries = store.entries(name, statuses=None if status == "all" else [status])
        if out is None:
            n = export(entries, fmt, sys.stdout)
        else:
            with open(out, "w", encoding="utf-8", newline="") as f:
                n = export(entries, fmt, f)
    except BankError as exc:
        raise _fail(exc) from None
    click.echo(f"exported {n} entries", err=True)


@bank.command("add")
@click.argument("name")
@click.option("--kind", type=click.Choice(["pdq", "md5", "sha256", "url", "text"]), default=None,
              help="Kind of VALUE; not needed with --file.")
@click.option("--file", "files", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Hash a media file and add its SHA-256, MD5 and PDQ (images) or frame PDQs (videos, with vpdq).")
@click.option("--tag", "tags", multiple=True)
@click.option("--note", default=None)
@click.argument("values", nargs=-1)
@click.pass_context
def bank_add(ctx: click.Context, name: str, kind: str | None, files: tuple[Path, ...], tags: tuple[str, ...],
             note: str | None, values: tuple[str, ...]) -> None:
    """Add values (with --kind) or the hashes of media files (with --file) to a bank."""
    from seawall.banks.model import BankError, EntryIn
    from seawall.media import MediaError, hash_file

    entries = []
    try:
        if values and kind is None:
            raise click.UsageError("--kind is needed for values")
        for v in values:
            entries.append(EntryIn.make(kind or "", v, tags=list(tags), note=note))
        for f in files:
            if f.suffix.lower() in VIDEO_SUFFIXES:  # a video: its bytes and its distinct frame PDQs (vPDQ)
                from seawall.media.video import hash_video_file

                v = hash_video_file(f)
                entries.append(EntryIn.make("sha256", v.sha256, tags=list(tags), note=note or f.name))
                entries.append(EntryIn.make("md5", v.md5, tags=list(tags), note=note or f.name))
                for frame in v.distinct_pdq(50):
                    entries.append(EntryIn.make("pdq", frame, tags=list(tags), note=note or f"{f.name} (video frame)"))
                continue
            h = hash_file(f)
            entries.append(EntryIn.make("sha256", h.sha256, tags=list(tags), note=note or f.name))
            entries.append(EntryIn.make("md5", h.md5, tags=list(tags), note=note or f.name))
            if h.pdq is not None:
                entries.append(EntryIn.make("pdq", h.pdq, tags=list(tags), note=note or f.name))
        if not entries:
            raise click.UsageError("nothing to add: give VALUES with --kind, or --file")
        store = _bank_store(ctx)
        ids, dups = store.add_entries(name, entries)
    except (BankError, MediaError) as exc:
        raise _fail(exc) from None
    _audit(store, "bank.add", f"bank:{name}", {"ids": ids, "duplicates": dups})
    _emit({"bank": name, "added": len(ids), "duplicates": dups, "ids": ids})


@bank.command("disable")
@click.argument("name")
@click.option("--entry", "entry_ids", multiple=True, type=int, help="Disable these entries only.")
@click.option("--quarantine", is_flag=True, help="Quarantine the entries instead (held back for review).")
@click.option("--enable", is_flag=True, help="Re-enable instead.")
@click.pass_context
def bank_disable(ctx: click.Context, name: str, entry_ids: tuple[int, ...], quarantine: bool, enable: bool) -> None:
    """Disable a whole bank, or some of its entries (--entry); --enable undoes it."""
    from seawall.banks.model import BankError

    store = _bank_store(ctx)
    try:
        b = store.bank(name)
        if not entry_ids:
            if quarantine:
                raise click.UsageError("--quarantine applies to entries (--entry ID)")
            store.set_bank_enabled(name, enable)
            _audit(store, "bank.enable" if enable else "bank.disable", f"bank:{name}", {"enabled": enable})
            _emit({"bank": name, "enabled": enable})
            return
        foreign = [i for i in entry_ids if (e := store.entry(i)) is None or e.bank_id != b.id]
        if foreign:
            raise BankError(f"no entry {foreign[0]} in bank {name!r}")
        status = "active" if enable else ("quarantined" if quarantine else "disabled")
        n = store.set_entry_status(list(entry_ids), status)
    except BankError as exc:
        raise _fail(exc) from None
    _audit(store, "bank.entries", f"bank:{name}", {"entries": list(entry_ids), "status": status, "changed": n})
    _emit({"bank": name, "entries": list(entry_ids), "status": status, "changed": n})


@bank.command("sweep")
@click.argument("name")
@click.option("--since", default=None, help="Only events that occurred at or after this ISO 8601 time.")
@click.option("--resume", is_flag=True, help="Continue the bank's unfinished sweep from its cursor.")
@click.option("--full", is_flag=True, help="Sweep with all the bank's entries, not only those added since its last sweep.")
@click.option("--chunk", type=click.IntRange(1, 10_000), default=500, show_default=True, help="Events per transaction.")
@click.option("--quiet", is_flag=True, help="No progress lines on stderr.")
@click.pass_context
def bank_sweep(ctx: click.Context, name: str, since: str | None, resume: bool, full: bool, chunk: int, quiet: bool) -> None:
    """Match stored posts and accounts against the bank's new entries and open cases for past matches.

    Progress goes to stderr; the summary (JSON) to stdout."""
    from datetime import datetime, timezone

    from seawall.banks.model import BankError
    from seawall.banks.sweep import Sweeper
    from seawall.config import ConfigError, load_settings
    from seawall.storage.sql import open_store

    since_dt = None
    if since is not None:
        if resume:
            raise click.UsageError("--since applies to a new sweep; a resumed sweep keeps its own")
        try:
            since_dt = datetime.fromisoformat(since.replace("Z", "+00:00"))
        except ValueError:
            raise click.BadParameter(f"not an ISO 8601 time: {since!r}", param_hint="--since") from None
        if since_dt.tzinfo is None:
            since_dt = since_dt.replace(tzinfo=timezone.utc)
    try:
        settings = load_settings(database=(ctx.obj or {}).get("database"))
        store = open_store(settings.database_url)
    except (ConfigError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None

    started = [0.0]

    def progress(p: dict) -> None:  # noqa: ANN001
        import time

        if quiet:
            return
        if p["event"] == "start":
            started[0] = time.monotonic()
        ev = p["events"]
        done = p["scanned"]
        pct = f"{100.0 * done / ev['total']:.1f}%" if ev["total"] else "100%"
        rate = p["this_run"]["scanned"] / max(time.monotonic() - started[0], 1e-6) if p["event"] != "start" else 0.0
        click.echo(f"sweep {p['sweep']} {p['bank']}: {p['event']} {done}/{ev['total']} events ({pct}), "
                   f"{p['matched']} matched, {p['cases_opened']} cases opened, {p['cases_merged']} merged, "
                   f"cursor {ev['cursor']}" + (f", {rate:.0f} events/s" if rate else ""), err=True)

    try:
        out = Sweeper(store, settings, chunk=chunk).sweep(name, since=since_dt, resume=resume, full=full,
                                                          progress=progress)
    except BankError as exc:
        raise _fail(exc) from None
    finally:
        store.close()
    _emit(out)


@click.command("hash")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dihedral", is_flag=True, help="Also print the PDQ of the 7 flips and rotations.")
def hash_cmd(file: Path, dihedral: bool) -> None:
    """Print the SHA-256, MD5 and (for images) PDQ hash and quality of a file."""
    from seawall.media import MediaError, hash_file

    try:
        h = hash_file(file, dihedral=dihedral)
    except MediaError as exc:
        raise _fail(exc) from None
    _emit({"file": str(file), **h.as_dict()})


@click.command("match")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def match_cmd(ctx: click.Context, file: Path) -> None:
    """Look a media file up in every enabled bank."""
    from seawall.banks.matcher import BankMatcher
    from seawall.media import MediaError, hash_file

    try:
        h = hash_file(file, dihedral=True)
    except MediaError as exc:
        raise _fail(exc) from None
    matcher = BankMatcher(_bank_store(ctx))
    matches = matcher.match_exact("sha256", h.sha256) + matcher.match_exact("md5", h.md5)
    if h.pdq is not None:
        matches += matcher.match_pdq([h.dihedral or [h.pdq]])[0]
    out = [
        {"bank": m.bank.name, "label": m.bank.label, "bank_kind": m.bank.kind, "entry_id": m.entry_id,
         "kind": m.kind, "distance": m.distance, **({"variant": m.variant} if m.variant != "original" else {})}
        for m in matches
    ]
    _emit({"file": str(file), **h.as_dict(), "matches": out})
    if h.error is not None and h.pdq is None:
        click.echo(f"note: no PDQ ({h.error})", err=True)


@click.group()
def bench() -> None:
    """Benchmarks."""


@bench.command("match")
@click.option("--hashes", type=int, default=1_000_000, show_default=True)
@click.option("--queries", type=int, default=2_000, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--only", type=click.Choice(["seawall", "pytx"]), multiple=True, help="Run only this engine.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON result (the default output too).")
@click.option("--text", is_flag=True, help="Benchmark the near-duplicate text index (--hashes = texts).")
def bench_match(hashes: int, queries: int, seed: int, only: tuple[str, ...], as_json: bool, text: bool) -> None:
    """PDQ index benchmark: Seawall's index against python-threatexchange's PDQIndex (needs the bench extra)."""
    from seawall.banks.benchmark import ENGINES, run, run_text

    _emit(run_text(hashes, queries, seed) if text else run(hashes, queries, tuple(only) or ENGINES, seed))


COMMANDS = [bank, hash_cmd, match_cmd, bench]
