"""`seawall user ...`: people who log in to the review console (machines use `seawall keys`)."""

from __future__ import annotations

import secrets
import sys

import click
import orjson

from seawall.review.settings import PEOPLE_ROLES


def _store_and_settings(ctx: click.Context):  # noqa: ANN202
    from seawall.cli import _settings, _store

    settings = _settings(ctx)
    return _store(settings), settings


def _audit(store, action: str, target: str, details: dict | None = None) -> None:  # noqa: ANN001
    from seawall.audit import record_store
    from seawall.audit.cli import cli_actor

    record_store(store, actor=cli_actor(), action=action, target=target, details=details)


def _password(generate: bool, stdin: bool) -> tuple[str, bool]:
    """(password, generated). Never echoed, never logged; a generated one is printed once."""
    if stdin:
        return sys.stdin.readline().rstrip("\n"), False
    if generate or not sys.stdin.isatty():
        return secrets.token_urlsafe(18), True
    return click.prompt("Password", hide_input=True, confirmation_prompt=True), False


@click.group()
def user() -> None:
    """People who log in to the review console: admin, reviewer, senior_reviewer, security, flagger, auditor."""


@user.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(list(PEOPLE_ROLES)))
@click.option("--generate", is_flag=True, help="Generate a password and print it once (the default without a terminal).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@click.pass_context
def user_add(ctx: click.Context, username: str, role: str, generate: bool, password_stdin: bool) -> None:
    """Create a person. Asks for a password (twice) on a terminal, else generates and prints one."""
    from seawall.review.people import PeopleError, add_user

    store, settings = _store_and_settings(ctx)
    password, generated = _password(generate, password_stdin)
    try:
        u = add_user(store, username, role, password, settings.review.scrypt_log_n)
    except PeopleError as exc:
        raise click.ClickException(str(exc)) from None
    _audit(store, "user.add", f"user:{u['id']}", {"username": username, "role": role})
    click.echo(f"created {username} ({role}), pseudonym {u['pseudonym']}", err=True)
    if generated:
        click.echo(password)


@user.command("list")
@click.pass_context
def user_list(ctx: click.Context) -> None:
    from seawall.review.people import list_users

    store, _ = _store_and_settings(ctx)
    for u in list_users(store):
        click.echo(orjson.dumps(u).decode())


@user.command("passwd")
@click.argument("username")
@click.option("--generate", is_flag=True, help="Generate a password and print it once.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@click.pass_context
def user_passwd(ctx: click.Context, username: str, generate: bool, password_stdin: bool) -> None:
    """Set a new password (ends the person's sessions)."""
    from seawall.review.people import PeopleError, set_password

    store, settings = _store_and_settings(ctx)
    password, generated = _password(generate, password_stdin)
    try:
        set_password(store, username, password, settings.review.scrypt_log_n)
    except PeopleError as exc:
        raise click.ClickException(str(exc)) from None
    _audit(store, "user.passwd", f"username:{username}")
    if generated:
        click.echo(password)


@user.command("disable")
@click.argument("username")
@click.pass_context
def user_disable(ctx: click.Context, username: str) -> None:
    """Disable a person and end their sessions (their decisions stay attributed to them)."""
    from seawall.review.people import PeopleError, disable_user

    store, _ = _store_and_settings(ctx)
    try:
        disable_user(store, username)
    except PeopleError as exc:
        raise click.ClickException(str(exc)) from None
    _audit(store, "user.disable", f"username:{username}")
    click.echo(f"disabled {username}", err=True)


COMMANDS = [user]
