"""`seawall worker` and `seawall broker ...`; registered by seawall.cli from COMMANDS."""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
from typing import Any

import click
import orjson

log = logging.getLogger("seawall.scale")


def _emit(data: Any) -> None:
    click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode())


def _client(url: str):  # noqa: ANN202
    from seawall.scale.broker import BrokerError, connect

    try:
        return connect(url)
    except BrokerError as exc:
        raise click.ClickException(str(exc)) from None


BROKER_OPTION = click.option(
    "--broker", envvar="SEAWALL_BROKER_URL", required=True, help="Redis URL: redis://HOST:PORT/DB (env SEAWALL_BROKER_URL)."
)


@click.command()
@BROKER_OPTION
@click.option("--db", "db", envvar="SEAWALL_DATABASE_URL", default=None,
              help="System of record: postgresql://... (default: the group's --database / SEAWALL_DATABASE_URL).")
@click.option("--name", default=None, help="Consumer name (default HOST-PID); reuse it to resume its pending entries.")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--claim-idle-ms", default=30_000, show_default=True, type=click.IntRange(100, 3_600_000),
              help="Take over entries another worker has held this long without acknowledging.")
@click.option("--max-deliveries", default=5, show_default=True, type=click.IntRange(1, 1000),
              help="Dead-letter an entry delivered more often than this.")
@click.option("--resync-seconds", default=30.0, show_default=True, type=click.FloatRange(1, 86_400),
              help="Full reload of per-worker state from the database (safety net for the change stream).")
@click.option("--status-port", default=None, type=click.IntRange(0, 65535),
              help="Serve /healthz, /readyz, /metrics, /state on 127.0.0.1 at this port (0: any free port).")
@click.option("--status-host", default="127.0.0.1", show_default=True)
@click.option("--exit-when-idle", is_flag=True, help="Leave once the stream is empty (batch jobs).")
@click.option("--campaign-state", type=click.Choice(["shared", "local"]), default="shared", show_default=True,
              help="Where the campaign detector keeps its windows and co-sharing graph: in Redis, shared by "
                   "every worker (workers decide as one process would), or in each worker (cheaper; each "
                   "worker sees only its share of the stream). See docs/operations.md.")
@click.pass_context
def worker(ctx: click.Context, broker: str, db: str | None, name: str | None, batch_size: int, claim_idle_ms: int,
           max_deliveries: int, resync_seconds: float, status_port: int | None, status_host: str,
           exit_when_idle: bool, campaign_state: str) -> None:
    """Process events from the Redis stream into the database (scale-out: run one per core)."""
    from seawall.config import ConfigError, load_settings
    from seawall.pipeline.pipeline import Pipeline, tune_gc
    from seawall.scale.broker import BrokerConfig, redact
    from seawall.scale.changes import ChangeFeed, ChangeFollower, SuspendedAccounts
    from seawall.scale.status import StatusServer, WorkerMetrics
    from seawall.scale.worker import StreamWorker, WorkerOptions
    from seawall.storage.sql import open_store

    db = db or (ctx.obj or {}).get("database")
    if db:
        # The hash-bank signal opens the deployment's database on its own: the same one.
        os.environ["SEAWALL_DATABASE_URL"] = db
    try:
        settings = load_settings(database=db)
        store = open_store(settings.database_url)
    except (ConfigError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    if not settings.database_url.startswith("postgres"):
        click.echo("warning: workers on several machines need one shared PostgreSQL; this is "
                   f"{settings.database_url.split(':', 1)[0]}", err=True)
    name = name or f"{socket.gethostname()}-{os.getpid()}"
    client = _client(broker)
    cfg = BrokerConfig(broker)
    metrics = WorkerMetrics(name)
    try:
        pipeline = Pipeline.from_settings(settings, store, metrics)
        pipeline.decide([])  # load models, lists and banks before taking work
    except Exception as exc:
        raise click.ClickException(f"cannot start: {exc}") from None
    suspended = SuspendedAccounts(store.engine)
    suspended.load()
    if campaign_state == "shared":
        share_campaign_state(pipeline, client)

    def refresh_banks(_: dict) -> None:
        for s in pipeline.signals:
            m = getattr(s, "_matcher", None)
            if m is not None:
                m.refresh()

    def on_any(kind: str):  # noqa: ANN202 - signals may keep their own state current
        def handle(data: dict) -> None:
            for s in pipeline.signals:
                apply = getattr(s, "apply_change", None)
                if apply is not None:
                    apply(kind, data)
        return handle

    def handle_banks(data: dict) -> None:
        refresh_banks(data)
        on_any("banks")(data)

    def handle_account(data: dict) -> None:
        suspended.apply(data)
        on_any("account")(data)

    def resync() -> None:
        suspended.load()
        refresh_banks({})

    follower = ChangeFollower(client, {"banks": handle_banks, "account": handle_account}, resync, resync_seconds)
    opts = WorkerOptions(name=name, batch_size=batch_size, claim_idle_ms=claim_idle_ms, max_deliveries=max_deliveries,
                         exit_when_idle=exit_when_idle, reclaim_every_s=min(5.0, claim_idle_ms / 2000))
    w = StreamWorker(pipeline, client, cfg, opts, metrics, follower, ChangeFeed(client), suspended)
    signal.signal(signal.SIGTERM, lambda *_: w.request_stop())
    signal.signal(signal.SIGINT, lambda *_: w.request_stop())
    status = None
    if status_port is not None:
        status = StatusServer(status_host, status_port, w.health, w.ready, w.state, metrics)
        status.start()
    tune_gc()
    click.echo(f"worker {name} on {redact(broker)} stream {cfg.stream} group {cfg.group}"
               + (f", status http://{status_host}:{status.port}" if status else ""), err=True)
    sys.stderr.flush()
    totals = w.run()
    if status is not None:
        status.stop()
    click.echo(orjson.dumps({"worker": name, "acked": w.acked, "accepted": totals.accepted,
                             "duplicates": totals.duplicates, "failed": totals.failed}).decode(), err=True)


def share_campaign_state(pipeline: Any, client: Any) -> bool:
    """Give the pipeline's campaign detector (if it has one) windows and a co-sharing graph in
    Redis, shared by every worker. Returns whether there was a detector to share."""
    from seawall.scale.cosharing import RedisCoShareGraph
    from seawall.scale.windows import RedisWindowStore

    for s in pipeline.signals:
        detector = getattr(s, "detector", None)
        if detector is not None and hasattr(detector, "windows"):
            cfg = detector.cfg
            detector.windows = RedisWindowStore(client, cfg.window_seconds, cfg.baseline_tau_seconds,
                                                cfg.retention_seconds)
            detector.graph = RedisCoShareGraph(client, cfg.coshare_min_keys, cfg.cluster_min_accounts,
                                               cfg.coshare_max_key_accounts, cfg.coshare_pair_ttl_seconds)
            return True
    return False


@click.group()
def broker() -> None:
    """The Redis broker of a scaled deployment: stats and change notices."""


@broker.command("stats")
@BROKER_OPTION
def broker_stats_cmd(broker: str) -> None:
    """Throughput, lag, pending and workers (JSON)."""
    from seawall.scale.broker import BrokerConfig
    from seawall.scale.stats import broker_stats

    _emit(broker_stats(_client(broker), BrokerConfig(broker)))


@broker.command("notify")
@BROKER_OPTION
@click.argument("kind", type=click.Choice(["banks", "account"]))
@click.option("--account", default=None, help="account: its id")
@click.option("--status", type=click.Choice(["suspended", "active"]), default=None, help="account: its new status")
def broker_notify(broker: str, kind: str, account: str | None, status: str | None) -> None:
    """Tell every worker that shared state changed outside a worker (e.g. after `seawall bank
    import`): they reload it at once instead of at their next resync."""
    from seawall.scale.changes import ChangeFeed

    data: dict[str, Any] = {}
    if kind == "account":
        if not account or not status:
            raise click.ClickException("account notices need --account and --status")
        data = {"id": account, "status": status}
    if not ChangeFeed(_client(broker)).publish(kind, **data):
        raise click.ClickException("the broker is unavailable")
    click.echo(f"published {kind} notice", err=True)


COMMANDS = [worker, broker]


def enqueue_file_command(broker_url: str, store: Any, path: Any, fmt: str, batch_size: int,
                         max_backlog: int | None) -> dict[str, Any]:
    """`seawall replay FILE --broker`: validate and put the file's events on the stream."""
    from seawall.scale.broker import DEFAULT_MAX_BACKLOG, BrokerConfig, ensure_group
    from seawall.scale.enqueue import Enqueuer, enqueue_file

    client = _client(broker_url)
    cfg = BrokerConfig(broker_url, max_backlog=max_backlog or DEFAULT_MAX_BACKLOG)
    ensure_group(client, cfg)
    return enqueue_file(Enqueuer(client, cfg), store, path, fmt, batch_size)


def broker_stats_for(broker_url: str) -> dict[str, Any]:
    """`seawall stats --broker`: the stream's figures, or why they are missing."""
    from seawall.scale.broker import REDIS_DOWN, BrokerConfig
    from seawall.scale.stats import broker_stats

    try:
        return broker_stats(_client(broker_url), BrokerConfig(broker_url))
    except REDIS_DOWN as exc:
        raise click.ClickException(f"broker unavailable: {type(exc).__name__}: {exc}") from None
