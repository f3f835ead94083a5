"""`seawall user`: people are created with a role and a pseudonym; passwords are never printed
unless generated, and never stored in the clear."""

from __future__ import annotations

import orjson
from click.testing import CliRunner
from sqlalchemy import select

from seawall.cli import main
from seawall.review.people import check_password
from seawall.review.schema import users
from seawall.storage.sql import open_store


def test_user_add_list_passwd_disable(settings):  # noqa: ANN001
    (settings.home / "config.toml").write_text("[review]\nscrypt_log_n = 10\n", encoding="utf-8")
    run = CliRunner()
    r = run.invoke(main, ["user", "add", "rita", "--role", "reviewer", "--password-stdin"],
                   input="a very long password\n")
    assert r.exit_code == 0, r.output
    assert "a very long password" not in r.output and "pseudonym reviewer-" in r.output
    gen = run.invoke(main, ["user", "add", "sena", "--role", "senior_reviewer", "--generate"])
    assert gen.exit_code == 0
    generated = gen.stdout.strip().splitlines()[-1]
    assert len(generated) >= 20
    store = open_store(settings.database_url)
    with store.engine.connect() as conn:
        stored = dict(conn.execute(select(users.c.username, users.c.password_hash)).all())
    assert stored["rita"].startswith("scrypt$10$") and "a very long password" not in stored["rita"]
    assert check_password(generated, stored["sena"]) and not check_password("nope", stored["sena"])
    out = run.invoke(main, ["user", "list"])
    assert out.exit_code == 0, out.output
    listed = [orjson.loads(line) for line in out.stdout.splitlines()]
    assert [(u["username"], u["role"]) for u in listed] == [("rita", "reviewer"), ("sena", "senior_reviewer")]
    assert "password_hash" not in listed[0]
    assert run.invoke(main, ["user", "add", "rita", "--role", "reviewer", "--generate"]).exit_code != 0
    bad_role = run.invoke(main, ["user", "add", "bot", "--role", "ingest", "--generate"])
    assert bad_role.exit_code != 0 and "ingest" in bad_role.output
    short = run.invoke(main, ["user", "add", "tim", "--role", "reviewer", "--password-stdin"], input="short\n")
    assert short.exit_code != 0 and "at least 12 characters" in short.output
    assert run.invoke(main, ["user", "passwd", "rita", "--password-stdin"], input="another long password\n").exit_code == 0
    assert run.invoke(main, ["user", "disable", "rita"]).exit_code == 0
    assert run.invoke(main, ["user", "disable", "nobody"]).exit_code != 0
    store.close()
