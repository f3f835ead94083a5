"""`seawall campaign list|show|act` and `seawall crisis start|stop|status`."""

from __future__ import annotations

import getpass
from typing import Any

import click
import orjson


def _emit(data: Any) -> None:
    click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())


def _store(ctx: click.Context):  # noqa: ANN202
    from seawall.cli import _settings, _store as open_store

    return open_store(_settings(ctx))


def _actor() -> str:
    try:
        from seawall.audit.cli import cli_actor

        return cli_actor()
    except ImportError:
        try:
            return f"cli:{getpass.getuser()}"
        except Exception:  # noqa: BLE001 - no login name in some containers
            return "cli:unknown"


@click.group()
def campaign() -> None:
    """Campaigns: hashtags, links and texts pushed by many accounts, each one case with its members."""


@campaign.command("list")
@click.option("--status", type=click.Choice(["open", "actioned", "closed", "all"]), default="open", show_default=True,
              help="Status of the campaign's case.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def campaign_list(ctx: click.Context, status: str, limit: int, as_json: bool) -> None:
    """Campaigns, most recently active first."""
    from seawall.campaigns.store import list_campaigns

    rows = list_campaigns(_store(ctx), None if status == "all" else status, limit)
    for r in rows:
        if as_json:
            click.echo(orjson.dumps(r).decode())
        else:
            ev = r["evidence"]
            click.echo(f"{r['id']:>5}  case {r['case_id']:<6} {r.get('case_status') or '-':<8} {r['label']:<11} "
                       f"{r['reason']:<14} score {r['score']:.2f}  posts {r['member_posts']:<5} "
                       f"accounts {r['member_accounts']:<4} {r['key'][:80]}"
                       + (f"  (volume {ev.get('volume')}, baseline {ev.get('baseline')})" if "volume" in ev else ""))
    if not rows and not as_json:
        click.echo("no campaigns", err=True)


@campaign.command("show")
@click.argument("campaign_id", type=int)
@click.option("--members", "member_limit", default=1000, show_default=True, type=click.IntRange(0, 1_000_000),
              help="At most this many members of each kind.")
@click.pass_context
def campaign_show(ctx: click.Context, campaign_id: int, member_limit: int) -> None:
    """One campaign: its figures, its members (posts with their verdicts, accounts) and actions."""
    from seawall.campaigns.store import get_campaign

    found = get_campaign(_store(ctx), campaign_id, member_limit)
    if found is None:
        raise click.ClickException(f"no campaign with id {campaign_id}")
    _emit(found)


@campaign.command("act")
@click.argument("campaign_id", type=int)
@click.argument("kind", type=click.Choice(["remove", "suspend"]))
@click.pass_context
def campaign_act(ctx: click.Context, campaign_id: int, kind: str) -> None:
    """Remove every member post, or suspend every member account, of a campaign. Each is recorded
    as its own action; repeating the command creates nothing new."""
    from seawall.campaigns.actions import CampaignActionError, apply_campaign_action
    from seawall.campaigns.store import get_campaign

    store = _store(ctx)
    found = get_campaign(store, campaign_id, member_limit=0)
    if found is None:
        raise click.ClickException(f"no campaign with id {campaign_id}")
    if found["case_id"] is None:
        raise click.ClickException(f"campaign {campaign_id} has no case (it was merged into {found['merged_into']})")
    try:
        result = apply_campaign_action(store, found["case_id"], kind, _actor())
    except CampaignActionError as exc:
        raise click.ClickException(str(exc)) from None
    _emit({"campaign_id": campaign_id, **result})


@click.group()
def crisis() -> None:
    """Crisis mode: a named incident with its hash bank enabled and rule thresholds lowered."""


@crisis.command("start")
@click.argument("name")
@click.option("--bank", default=None, help="The incident hash bank to switch on (it must exist).")
@click.option("--lower-thresholds", "delta", type=float, default=0.1, show_default=True,
              help="Lower every min_score on the chosen signals' rules by this much (0 < DELTA <= 0.5).")
@click.option("--hashtags", multiple=True, help="Hashtags of the incident (repeat, or separate with commas).")
@click.option("--signal", "signals", multiple=True, help="Signals whose rule thresholds are lowered "
              "(default: classifier and campaign).")
@click.pass_context
def crisis_start(ctx: click.Context, name: str, bank: str | None, delta: float, hashtags: tuple[str, ...],
                 signals: tuple[str, ...]) -> None:
    """Start crisis mode for the incident NAME. Running pipelines switch within a few seconds."""
    from seawall.campaigns.crisis import DEFAULT_SIGNALS, CrisisError, start_crisis

    tags = [t.strip() for h in hashtags for t in h.split(",") if t.strip()]
    try:
        c = start_crisis(_store(ctx), name, _actor(), bank=bank, threshold_delta=delta, hashtags=tags,
                         signals=signals or DEFAULT_SIGNALS)
    except CrisisError as exc:
        raise click.ClickException(str(exc)) from None
    _emit(c.as_dict())


@crisis.command("stop")
@click.pass_context
def crisis_stop(ctx: click.Context) -> None:
    """Stop the active crisis: thresholds return to normal, its bank to how it was."""
    from seawall.campaigns.crisis import CrisisError, stop_crisis

    try:
        c = stop_crisis(_store(ctx), _actor())
    except CrisisError as exc:
        raise click.ClickException(str(exc)) from None
    _emit(c.as_dict())


@crisis.command("status")
@click.option("--name", default=None, help="A past crisis (default: the active one).")
@click.option("--minutes", default=60, show_default=True, type=click.IntRange(1, 100_000),
              help="How many minutes of volume to show.")
@click.pass_context
def crisis_status(ctx: click.Context, name: str | None, minutes: int) -> None:
    """The active (or named) crisis and its per-minute volume of matching posts."""
    from seawall.campaigns.crisis import crisis_report

    _emit(crisis_report(_store(ctx), name, limit=minutes))


COMMANDS = [campaign, crisis]
