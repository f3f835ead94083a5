"""The `seawall` command line. Every command keeps its state in `SEAWALL_HOME` (default ./.seawall)."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path
from typing import Any

import click
import orjson

from seawall.api.auth import ROLES
from seawall.config import ConfigError, Settings, load_settings

FORMAT_CHOICE = click.Choice(["seawall", "twitter-v1", "mastodon", "atproto"])


def _emit(data: Any) -> None:
    click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode())


def _settings(ctx: click.Context) -> Settings:
    try:
        return load_settings(database=ctx.obj.get("database") if ctx.obj else None)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _store(settings: Settings):  # noqa: ANN202 - the concrete store type is an implementation detail
    from seawall.storage.sql import open_store

    try:
        return open_store(settings.database_url)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def _pipeline(settings: Settings, store):  # noqa: ANN001, ANN202
    from seawall.pipeline.pipeline import Pipeline
    from seawall.policy import RulesError
    from seawall.signals.registry import SignalConfigError

    try:
        return Pipeline.from_settings(settings, store)
    except (RulesError, SignalConfigError, ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
@click.option("--database", envvar="SEAWALL_DATABASE_URL", default=None,
              help="Database URL (default: SQLite in SEAWALL_HOME).")
@click.option("-v", "--verbose", is_flag=True, help="Log more.")
@click.version_option(package_name="seawall")
@click.pass_context
def main(ctx: click.Context, database: str | None, verbose: bool) -> None:
    """Seawall: find and stop violent extremist content, threats and returning banned accounts."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx.ensure_object(dict)
    ctx.obj["database"] = database


@main.command()
@click.option("--host", default=None, help="Address to serve on (default 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port to serve on (default 8700).")
@click.option("--demo/--no-demo", default=False, help="Generate (once) and replay the demo stream on start.")
@click.option("--broker", default=None,
              help="Scale-out: accept events onto this Redis stream (redis://HOST:PORT/DB) for `seawall worker`s.")
@click.option("--max-backlog", default=None, type=click.IntRange(1), help="With --broker: answer 503 above this backlog.")
@click.pass_context
def run(ctx: click.Context, host: str | None, port: int | None, demo: bool, broker: str | None,
        max_backlog: int | None) -> None:
    """Serve the HTTP API and process events (embedded: one process, SQLite)."""
    import uvicorn

    from seawall.api.app import create_app
    from seawall.embedded import Embedded

    settings = _settings(ctx)
    host = host or settings.server.host
    port = port or settings.server.port
    try:
        if broker:
            from seawall.scale.runtime import BrokerRuntime

            runtime = BrokerRuntime(settings, broker, max_backlog=max_backlog)
        else:
            runtime = Embedded(settings)
    except Exception as exc:  # configuration and rules errors: say what, not a traceback
        raise click.ClickException(f"cannot start: {exc}") from None
    from seawall.pipeline.pipeline import tune_gc

    tune_gc()
    runtime.start()
    if demo:
        threading.Thread(target=_replay_demo, args=(runtime, settings), name="seawall-demo", daemon=True).start()
    click.echo(f"Seawall {settings.home} serving on http://{host}:{port} (database {_redact(settings.database_url)})",
               err=True)
    try:
        uvicorn.run(create_app(runtime), host=host, port=port, log_level="warning", access_log=False)
    finally:
        runtime.stop()


def _replay_demo(runtime, settings: Settings) -> None:  # noqa: ANN001
    from seawall.demo.generate import write_demo
    from seawall.pipeline.replay import replay_file

    path = settings.home / "demo.jsonl"
    if not path.exists():
        write_demo(path)
    summary = replay_file(runtime.pipeline, path)
    click.echo("demo replayed: " + orjson.dumps(
        {k: summary[k] for k in ("lines", "accepted", "duplicates", "rejected", "verdicts")}).decode(), err=True)


def _audit(store, action: str, target: str, details: dict[str, Any] | None = None) -> None:  # noqa: ANN001
    from seawall.audit import record_store
    from seawall.audit.cli import cli_actor

    record_store(store, actor=cli_actor(), action=action, target=target, details=details)


def _redact(url: str) -> str:
    # A database password must never reach a log line.
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else f"{scheme}://{user}@{host}"
    return url


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=FORMAT_CHOICE, default="seawall", show_default=True, help="Input format.")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--broker", default=None,
              help="Scale-out: put the events on this Redis stream (redis://HOST:PORT/DB) for `seawall worker`s "
                   "instead of processing them here; waits while the backlog is over --max-backlog.")
@click.option("--max-backlog", default=None, type=click.IntRange(1), help="With --broker: the backlog bound.")
@click.pass_context
def replay(ctx: click.Context, file: Path, fmt: str, batch_size: int, broker: str | None,
           max_backlog: int | None) -> None:
    """Replay a JSONL file (optionally .gz) of events; print a JSON summary."""
    from seawall.pipeline.replay import replay_file

    from seawall.pipeline.pipeline import tune_gc

    settings = _settings(ctx)
    store = _store(settings)
    if broker:
        from seawall.scale.cli import enqueue_file_command

        _emit(enqueue_file_command(broker, store, file, fmt, batch_size, max_backlog))
        return
    pipeline = _pipeline(settings, store)
    tune_gc()
    summary = replay_file(pipeline, file, fmt, batch_size)
    _emit(summary)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--broker", default=None, help="Scale-out: add the Redis stream's throughput, lag and pending.")
@click.pass_context
def stats(ctx: click.Context, as_json: bool, broker: str | None) -> None:
    """What has been processed: events, verdicts, cases, actions, dead letters, latency."""
    s = _store(_settings(ctx)).stats()
    if broker:
        from seawall.scale.cli import broker_stats_for

        s["broker"] = broker_stats_for(broker)
    if as_json:
        _emit(s)
        return
    click.echo(f"events:        {s['events']['total']}  {s['events']['by_type']}")
    click.echo(f"verdicts:      {s['verdicts']}")
    click.echo(f"signal hits:   {s['signal_hits']}")
    click.echo(f"open cases:    {s['cases']['open_by_queue']}")
    click.echo(f"actions:       {s['actions']}")
    click.echo(f"dead letters:  {s['dead_letters_open']}")
    click.echo(f"inbox pending: {s['inbox_pending']}")
    click.echo(f"latency ms:    {s['latency_ms']}")
    if broker:
        b = s["broker"]
        click.echo(f"broker:        backlog {b['backlog']} (lag {b['lag']}, pending {b['pending']}), "
                   f"{b['throughput_events_per_s']['last_60s']} events/s over 60 s, workers {b['workers_alive']}")


@main.group()
def deadletter() -> None:
    """Inspect and replay inputs that were rejected or failed."""


@deadletter.command("list")
@click.option("--status", type=click.Choice(["open", "replayed", "discarded", "all"]), default="open", show_default=True)
@click.option("--kind", type=click.Choice(["rejected", "failed"]), default=None)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines, with the raw input.")
@click.pass_context
def deadletter_list(ctx: click.Context, status: str, kind: str | None, limit: int, as_json: bool) -> None:
    store = _store(_settings(ctx))
    letters = store.list_dead_letters(None if status == "all" else status, kind, limit)
    for d in letters:
        if as_json:
            click.echo(orjson.dumps(d.as_dict()).decode())
        else:
            where = f"line {d.line_no}" if d.line_no is not None else "-"
            field = f"{d.field}: " if d.field else ""
            click.echo(f"#{d.id} {d.kind} {d.status} {d.source} {where}: {field}{d.reason}")
    if not letters and not as_json:
        click.echo("no dead letters", err=True)


@deadletter.command("replay")
@click.argument("ids", nargs=-1, type=int)
@click.pass_context
def deadletter_replay(ctx: click.Context, ids: tuple[int, ...]) -> None:
    """Replay the given dead letters (default: all open ones)."""
    from seawall.deadletter import replay_dead_letters

    settings = _settings(ctx)
    store = _store(settings)
    result = replay_dead_letters(_pipeline(settings, store), list(ids) or None)
    _audit(store, "deadletter.replay", "deadletters", {"ids": list(ids) or "all open", "result": result})
    _emit(result)


@deadletter.command("discard")
@click.argument("ids", nargs=-1, type=int, required=True)
@click.pass_context
def deadletter_discard(ctx: click.Context, ids: tuple[int, ...]) -> None:
    """Mark dead letters as discarded (kept for the record, no longer open)."""
    store = _store(_settings(ctx))
    store.mark_dead_letters(list(ids), "discarded")
    _audit(store, "deadletter.discard", "deadletters", {"ids": list(ids)})
    click.echo(f"discarded {len(ids)}", err=True)


@main.command()
@click.argument("rules", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--examples", default=10, show_default=True, type=click.IntRange(0, 1000),
              help="Example events listed per change.")
@click.option("--rescan", is_flag=True, help="Recompute signal hits with the current signals instead of the stored ones.")
@click.pass_context
def backtest(ctx: click.Context, rules: Path, examples: int, rescan: bool) -> None:
    """Run a rules file over stored history; report what would have changed (JSON)."""
    from seawall.backtest import run_backtest
    from seawall.policy import RulesError

    settings = _settings(ctx)
    try:
        report = run_backtest(_store(settings), rules, settings, examples, rescan)
    except RulesError as exc:
        raise click.ClickException(str(exc)) from None
    _emit(report)


@main.group()
def rules() -> None:
    """Check rules files."""


@rules.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False)
@click.pass_context
def rules_check(ctx: click.Context, file: Path | None) -> None:
    """Validate a rules file against the configured signals (default: the active rules)."""
    from seawall.policy import RulesError, load_rules
    from seawall.signals.registry import build_signals

    settings = _settings(ctx)
    path = file or settings.rules_path
    try:
        ruleset = load_rules(path)
        ruleset.check_signals({s.name: s.labels() for s in build_signals(settings.signals)})
    except RulesError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{path}: {len(ruleset.rules)} rules OK")


@main.group()
def keys() -> None:
    """API keys: each has one role (admin, ingest, reviewer, flagger, auditor)."""


@keys.command("create")
@click.option("--role", required=True, type=click.Choice(list(ROLES)))
@click.option("--name", default="", help="Who or what holds the key.")
@click.pass_context
def keys_create(ctx: click.Context, role: str, name: str) -> None:
    """Create a key and print it once (only its hash is stored)."""
    from seawall.api.auth import create_key

    store = _store(_settings(ctx))
    full = create_key(store, role, name)
    _audit(store, "key.create", f"key:{full[3:15]}", {"role": role, "name": name})
    click.echo(full)


@keys.command("list")
@click.pass_context
def keys_list(ctx: click.Context) -> None:
    for k in _store(_settings(ctx)).list_api_keys():
        click.echo(orjson.dumps(k.as_dict()).decode())


@keys.command("revoke")
@click.argument("key_id")
@click.pass_context
def keys_revoke(ctx: click.Context, key_id: str) -> None:
    store = _store(_settings(ctx))
    if not store.revoke_api_key(key_id):
        raise click.ClickException(f"no active key with id {key_id!r}")
    _audit(store, "key.revoke", f"key:{key_id}")
    click.echo(f"revoked {key_id}", err=True)


@main.group()
def demo() -> None:
    """The demo stream."""


@demo.command("generate")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Output file (default: stdout).")
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--accounts", default=300, show_default=True, type=click.IntRange(10, 1_000_000))
@click.option("--posts", default=3000, show_default=True, type=click.IntRange(10, 10_000_000))
def demo_generate(out: Path | None, seed: int, accounts: int, posts: int) -> None:
    """Generate a reproducible demo stream of events (JSONL)."""
    from seawall.demo.generate import generate_events

    stream = out.open("wb") if out else sys.stdout.buffer
    try:
        for ev in generate_events(seed=seed, accounts=accounts, posts=posts):
            stream.write(orjson.dumps(ev) + b"\n")
    finally:
        if out:
            stream.close()


@main.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Create or upgrade the database schema."""
    settings = _settings(ctx)
    _store(settings)
    click.echo(f"database at head: {_redact(settings.database_url)}", err=True)


def _register_plugins() -> None:
    # Commands that live beside the code they drive (training and evaluation of the classifiers).
    from seawall.audit.cli import COMMANDS as audit_commands
    from seawall.banks.cli import COMMANDS as bank_commands
    from seawall.classify.cli import COMMANDS as classify_commands
    from seawall.scale.cli import COMMANDS as scale_commands

    for command in (*classify_commands, *bank_commands, *audit_commands):
        main.add_command(command)
    for command in scale_commands:
        main.add_command(command)
    from seawall.actions.cli import COMMANDS as actions_commands

    for command in actions_commands:
        main.add_command(command)
    from seawall.campaigns.cli import COMMANDS as campaign_commands  # seawall campaign, seawall crisis

    for command in campaign_commands:
        main.add_command(command)
    from seawall.linking.cli import COMMANDS as linking_commands  # seawall link, link-eval

    for command in linking_commands:
        main.add_command(command)
    from seawall.simulate.cli import BENCH_COMMANDS as bench_commands, COMMANDS as simulate_commands

    for command in simulate_commands:
        main.add_command(command)
    for command in bench_commands:  # `seawall bench exposure`, beside the banks' `seawall bench match`
        main.commands["bench"].add_command(command)  # type: ignore[attr-defined]


def _register_review() -> None:
    from seawall.review.cli import COMMANDS as review_commands

    for command in review_commands:
        main.add_command(command)


_register_plugins()
_register_review()

if __name__ == "__main__":  # pragma: no cover
    main()
