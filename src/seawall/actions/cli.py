"""`seawall actions list|show|retry|dispatch|restore|evidence|hold|purge-expired`.

Registered by seawall.cli from COMMANDS; reads `--database` from the parent group's context object
like every other seawall command.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

import click
import orjson

from seawall.actions.settings import ACTION_KINDS


def _emit(data: Any) -> None:
    click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode())


def _open(ctx: click.Context):  # noqa: ANN202
    from seawall.config import ConfigError, load_settings
    from seawall.storage.sql import open_store

    try:
        settings = load_settings(database=(ctx.obj or {}).get("database"))
        store = open_store(settings.database_url)
    except (ConfigError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    return settings, store


def _outbox(ctx: click.Context):  # noqa: ANN202
    from seawall.actions.outbox import Outbox

    settings, store = _open(ctx)
    return settings, Outbox(store.engine)


def _actor() -> str:
    from seawall.audit.cli import cli_actor

    return cli_actor()


@click.group()
def actions() -> None:
    """Actions for the platform: the outbox, deliveries, restores and preserved evidence."""


@actions.command("list")
@click.option("--status", type=click.Choice(["pending", "delivered", "failed", "all"]), default="all", show_default=True)
@click.option("--kind", type=click.Choice(list(ACTION_KINDS)), default=None)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--after-id", default=0, show_default=True, type=click.IntRange(0))
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines with the delivery state.")
@click.pass_context
def actions_list(ctx: click.Context, status: str, kind: str | None, limit: int, after_id: int, as_json: bool) -> None:
    """Actions with their delivery state (attempts, next attempt, last error)."""
    _, outbox = _outbox(ctx)
    rows = outbox.list(None if status == "all" else status, kind, limit, after_id)
    for a in rows:
        if as_json:
            click.echo(orjson.dumps(a).decode())
            continue
        d = a["delivery"] or {}
        where = d.get("delivered_at") or d.get("next_attempt_at") or "not in the outbox"
        err = f"  last error: {d['last_error']}" if d.get("last_error") and a["status"] != "delivered" else ""
        click.echo(f"{a['id']:>6}  {a['status']:<9} {a['kind']:<8} {a['idempotency_key']:<40} "
                   f"attempts {a['attempts']:<3} {where}{err}")
    if not as_json:
        c = outbox.counts()
        since = c["oldest_waiting_since"]
        waiting = f"{c['in_outbox']} waiting in the outbox since {since}" if since else "nothing waiting in the outbox"
        click.echo(f"pending {c['by_status']['pending']}, delivered {c['by_status']['delivered']}, "
                   f"failed {c['by_status']['failed']}; {waiting}", err=True)


@actions.command("show")
@click.argument("action_id", type=int)
@click.pass_context
def actions_show(ctx: click.Context, action_id: int) -> None:
    """One action with every delivery attempt."""
    _, outbox = _outbox(ctx)
    found = outbox.get(action_id)
    if found is None:
        raise click.ClickException(f"action_id: no action {action_id}")
    _emit(found)


@actions.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--failed", "all_failed", is_flag=True, help="Re-queue every failed action.")
@click.pass_context
def actions_retry(ctx: click.Context, ids: tuple[int, ...], all_failed: bool) -> None:
    """Re-queue failed actions (or retry waiting ones now), with a fresh retry budget."""
    if not ids and not all_failed:
        raise click.UsageError("give action ids, or --failed for every failed action")
    _, outbox = _outbox(ctx)
    result = outbox.requeue(ids, all_failed=all_failed, actor=_actor())
    _emit({"requeued": result.requeued, "refused": {str(k): v for k, v in result.refused.items()}})
    if result.refused and not result.requeued:
        ctx.exit(1)


@actions.command("restore")
@click.argument("action_id", type=int)
@click.pass_context
def actions_restore(ctx: click.Context, action_id: int) -> None:
    """Reverse a removal or suspension on the platform (a `restore` action, through the same adapter)."""
    _, outbox = _outbox(ctx)
    try:
        restore_id = outbox.request_restore(action_id, actor=_actor())
    except (LookupError, ValueError) as exc:
        raise click.ClickException(str(exc.args[0])) from None
    _emit({"restore_action_id": restore_id})


@actions.command("dispatch")
@click.option("--once", is_flag=True, help="Try every due action once, print a summary, exit.")
@click.pass_context
def actions_dispatch(ctx: click.Context, once: bool) -> None:
    """Deliver actions through the configured adapter ([actions.webhook] in config.toml)."""
    from seawall.actions.dispatcher import dispatcher_from_settings

    settings, store = _open(ctx)
    try:
        dispatcher = dispatcher_from_settings(settings.actions, store.engine)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if dispatcher is None:
        raise click.ClickException("actions: no adapter configured; add [actions.webhook] with url and secret_env "
                                   "to config.toml (docs/actions.md)")
    try:
        if once:
            _emit(dispatcher.run_once().as_dict())
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        click.echo(f"dispatching as {dispatcher.owner} through {dispatcher.adapter!r}; Ctrl-C stops", err=True)
        try:
            dispatcher.run_forever(stop)
        except KeyboardInterrupt:
            stop.set()
    finally:
        dispatcher.close()


@actions.command("evidence")
@click.argument("action_id", type=int)
@click.pass_context
def actions_evidence(ctx: click.Context, action_id: int) -> None:
    """The evidence preserved for an action: the document, its SHA-256 and whether it still matches."""
    from seawall.actions.evidence import get_hold

    _, store = _open(ctx)
    hold = get_hold(store.engine, action_id, actor=_actor())
    if hold is None:
        raise click.ClickException(f"action_id: no evidence held for action {action_id} (holds are written when "
                                   "a removal, suspension or escalation enters the outbox)")
    _emit(hold)
    if hold["intact"] is False:
        click.echo(f"warning: the preserved document no longer matches its SHA-256 {hold['sha256']}", err=True)
        ctx.exit(2)


@actions.command("hold")
@click.argument("action_id", type=int)
@click.option("--reason", default=None, help="Why (a court order, a preservation request); required to set.")
@click.option("--release", is_flag=True, help="Release the legal hold (normal retention applies again).")
@click.pass_context
def actions_hold(ctx: click.Context, action_id: int, reason: str | None, release: bool) -> None:
    """Put an action's evidence under legal hold (never purged until released)."""
    from seawall.actions.evidence import set_legal_hold

    if not release and not reason:
        raise click.UsageError("--reason is required to set a legal hold")
    _, store = _open(ctx)
    if not set_legal_hold(store.engine, action_id, not release, reason, actor=_actor()):
        raise click.ClickException(f"action_id: no live evidence hold for action {action_id}")
    _emit({"action_id": action_id, "legal_hold": not release})


@actions.command("purge-expired")
@click.option("--dry-run", is_flag=True, help="List what would be purged.")
@click.pass_context
def actions_purge_expired(ctx: click.Context, dry_run: bool) -> None:
    """Delete preserved evidence whose retention has run out (legal holds are kept). The hold's
    row, hash and dates remain."""
    from seawall.actions.evidence import hold_counts, purge_expired

    _, store = _open(ctx)
    ids = purge_expired(store.engine, dry_run=dry_run, actor=_actor())
    _emit({"dry_run": dry_run, "purged" if not dry_run else "would_purge": ids, "holds": hold_counts(store.engine)})


COMMANDS = [actions]
