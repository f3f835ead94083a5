"""`seawall audit list|verify|anchor`."""

from __future__ import annotations

import getpass
import json
import re
import sys

import click

from seawall.audit.log import entries, verify

ANCHOR = re.compile(r"^(\d+):([0-9a-f]{64})$")


def cli_actor() -> str:
    """How a command-line user appears in the audit log."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "cli:unknown"


def _store(ctx: click.Context):  # noqa: ANN202
    from seawall.cli import _settings, _store as open_store

    return open_store(_settings(ctx))


@click.group()
def audit() -> None:
    """The tamper-evident audit log: who viewed, decided or changed what."""


@audit.command("list")
@click.option("--target", help="Only entries about this target, e.g. case:42 or key:ab12cd34ef56.")
@click.option("--actor", help="Only entries by this actor, e.g. user:7 or key:ab12cd34ef56.")
@click.option("--action", help="Only this action, e.g. case.view.")
@click.option("--after", "after_seq", type=int, default=0, show_default=True, help="Entries after this sequence number.")
@click.option("--limit", type=click.IntRange(1, 100000), default=100, show_default=True)
@click.pass_context
def audit_list(ctx: click.Context, target: str | None, actor: str | None, action: str | None,
               after_seq: int, limit: int) -> None:
    """Print entries as JSON lines, oldest first."""
    for entry in entries(_store(ctx), target=target, actor=actor, action=action, after_seq=after_seq, limit=limit):
        click.echo(json.dumps(entry.as_dict(), ensure_ascii=False))


@audit.command("verify")
@click.option("--anchor", "anchors", multiple=True, metavar="SEQ:HASH",
              help="A head printed earlier by `seawall audit anchor` and kept outside the database.")
@click.pass_context
def audit_verify(ctx: click.Context, anchors: tuple[str, ...]) -> None:
    """Recompute the hash chain. Exit status 1 and one line per problem if anything was edited,
    deleted or inserted."""
    parsed = []
    for anchor in anchors:
        m = ANCHOR.match(anchor.strip())
        if not m:
            raise click.BadParameter(f"'{anchor}' is not SEQ:HASH (a number, a colon, 64 hex digits)",
                                     param_hint="--anchor")
        parsed.append((int(m.group(1)), m.group(2)))
    result = verify(_store(ctx), parsed)
    click.echo(json.dumps(result, indent=2))
    if not result["ok"]:
        sys.exit(1)


@audit.command("anchor")
@click.pass_context
def audit_anchor(ctx: click.Context) -> None:
    """Print the head as SEQ:HASH, to keep somewhere the database's administrators cannot edit."""
    result = verify(_store(ctx))
    if not result["ok"]:
        raise click.ClickException("the audit log does not verify; not printing an anchor for it")
    click.echo(f"{result['head']['seq']}:{result['head']['hash']}")


COMMANDS = [audit]
