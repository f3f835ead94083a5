"""The review console in a real browser (Playwright driving Debian's chromium) against a real
`seawall run` on a loopback port with SQLite: a reviewer's day, the two-person rule, CSRF and
roles. With SEAWALL_SCREENSHOTS=docs/screenshots the screenshots of docs/review.md are refreshed;
otherwise they go to a temporary folder, so a test run never rewrites the docs."""

from __future__ import annotations

import base64
import io
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

CHROMIUM = os.environ.get("SEAWALL_CHROMIUM", "/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("SEAWALL_REQUIRE_BROWSER"),
                                reason="chromium not installed (apt-get install chromium; .ci/run does)")

ROOT = Path(__file__).resolve().parents[1]
SHOTS = Path(os.environ.get("SEAWALL_SCREENSHOTS") or tempfile.mkdtemp(prefix="seawall-shots-"))
SEAWALL = str(Path(sys.executable).with_name("seawall"))
PASSWORD = "a long test password"
PEOPLE = {"rita": "reviewer", "otto": "reviewer", "sena": "senior_reviewer", "audrey": "auditor"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _picture() -> str:
    """A synthetic photo-like picture (sky, ground, a figure, a sign): enough detail for the blur
    to visibly hide."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (640, 420), (120, 170, 230))
    d = ImageDraw.Draw(img)
    d.rectangle([0, 280, 640, 420], fill=(90, 140, 70))
    d.ellipse([470, 40, 560, 130], fill=(250, 220, 90))
    d.rectangle([120, 150, 300, 300], fill=(170, 60, 50))
    d.polygon([(110, 150), (210, 80), (310, 150)], fill=(110, 40, 35))
    d.rectangle([360, 200, 380, 320], fill=(60, 50, 40))
    d.ellipse([345, 160, 395, 210], fill=(230, 190, 160))
    d.rectangle([400, 220, 600, 270], fill=(255, 255, 255))
    d.text((410, 236), "EXAMPLE SIGN - NOT REAL", fill=(200, 0, 0))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def _events() -> list[dict]:
    accounts = [
        ("acc-loud", "loud_voice", "Loud Voice", 48_200, "2019-03-02T00:00:00Z", "Opinions. Lots of them."),
        ("acc-new", "fresh_account_88", None, 3, "2026-11-01T08:00:00Z", None),
        ("acc-mid", "harbour_watch", "Harbour Watch", 2_300, "2022-06-10T00:00:00Z", "Local news, unofficial."),
        ("acc-anon", "anon_4451", None, 140, "2025-12-24T00:00:00Z", None),
    ]
    evs: list[dict] = [
        {"type": "account", "id": i, "handle": h, "display_name": n, "followers_count": f, "created_at": c,
         **({"bio": b} if b else {})} for i, h, n, f, c, b in accounts
    ]
    posts = [
        ("post-1", "acc-loud", "@mayor_office I will kill you when you leave city hall tomorrow. Everyone will see.", True),
        ("post-2", "acc-new", "i will kill you all at the harbour festival, you have been warned", False),
        ("post-3", "acc-mid", "Someone said they will kill you if the ferry strike goes on. Reporting this.", False),
        ("post-4", "acc-anon", "We know where you live. I will kill you and your family.", False),
        ("post-5", "acc-new", "I will kill you @harbour_watch", False),
        ("post-6", "acc-mid", "If the council votes yes tonight I will kill you one by one", False),
        ("post-7", "acc-anon", "told my brother i will kill you if you eat my fries again lol", False),
        ("post-8", "acc-loud", "Reminder: saying 'I will kill you' to a journalist is a crime. Stop it.", False),
        ("post-9", "acc-anon", "I will kill you. I know your car and your route to school.", False),
    ]
    for pid, acct, text, with_image in posts:
        p = {"type": "post", "id": pid, "account_id": acct, "text": text, "created_at": "2026-11-01T10:00:00Z",
             "lang": "en"}
        if with_image:
            p["media"] = [{"kind": "image", "mime": "image/png", "data": _picture(), "alt_text": "photo"}]
        evs.append(p)
    # post-1 spreads: 40 reposts in the first hour
    evs += [{"type": "post", "id": f"rp-{i}", "account_id": f"fan-{i % 9}", "repost_of": "post-1",
             "created_at": f"2026-11-01T10:{i + 5:02d}:00Z"} for i in range(40)]
    evs.append({"type": "report", "id": "rep-1", "target_type": "post", "target_id": "post-2", "reason": "violent_threat",
                "text": "this is about the festival on saturday", "at": "2026-11-01T10:30:00Z"})
    return evs


def _age_case(home: Path, post_id: str, hours: float) -> None:
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import update

    from seawall.storage.schema import cases
    from seawall.storage.sql import open_store

    store = open_store(f"sqlite:///{home / 'seawall.db'}", migrate=False)
    with store.engine.begin() as conn:
        conn.execute(update(cases).where(cases.c.subject_id == post_id)
                     .values(opened_at=datetime.now(timezone.utc) - timedelta(hours=hours)))
    store.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):  # noqa: ANN001, ANN201
    home = tmp_path_factory.mktemp("seawall-home")
    (home / "config.toml").write_text("[review]\nscrypt_log_n = 12\nexposure_cap = 3\n", encoding="utf-8")
    env = {**os.environ, "SEAWALL_HOME": str(home)}
    env.pop("SEAWALL_DATABASE_URL", None)  # the embedded default: SQLite in SEAWALL_HOME
    # One person through the command line as an operator would; the rest in-process (each CLI
    # start costs seconds of imports).
    out = subprocess.run([SEAWALL, "user", "add", "rita", "--role", "reviewer", "--password-stdin"],
                         input=PASSWORD + "\n", env=env, capture_output=True, text=True, check=True)
    assert PASSWORD not in out.stdout + out.stderr and "pseudonym reviewer-" in out.stderr
    from seawall.api.auth import create_key
    from seawall.review.people import add_user
    from seawall.storage.sql import open_store

    store = open_store(f"sqlite:///{home / 'seawall.db'}")
    for name, role in PEOPLE.items():
        if name != "rita":
            add_user(store, name, role, PASSWORD, log_n=12)
    ingest, admin = create_key(store, "ingest", "platform"), create_key(store, "admin", "ops")
    store.close()
    port = _free_port()
    proc = subprocess.Popen([SEAWALL, "run", "--host", "127.0.0.1", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline or proc.poll() is not None:
                raise RuntimeError(f"seawall run did not start: {proc.stderr.read().decode() if proc.poll() is not None else 'timeout'}")
            time.sleep(0.2)
        r = httpx.post(f"{base}/v1/events", json=_events(), headers={"Authorization": f"Bearer {ingest}"}, timeout=30)
        assert r.status_code == 202, r.text
        while httpx.get(f"{base}/readyz").json()["inbox_pending"]:
            time.sleep(0.1)
        _age_case(home, "post-9", hours=5)  # one case past its 4-hour SLA, as a real queue has
        yield {"base": base, "ingest": ingest, "admin": admin, "home": home}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser():  # noqa: ANN201
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run"])
        yield b
        b.close()


def _page(browser):  # noqa: ANN001, ANN202
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, device_scale_factor=1)
    page = ctx.new_page()
    page.set_default_timeout(10_000)
    return page


def _login(page, base: str, name: str) -> None:  # noqa: ANN001
    page.goto(f"{base}/console")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("table.cases, p.empty")


def _api(server, method: str, path: str, **kw):  # noqa: ANN001, ANN003, ANN202
    return httpx.request(method, server["base"] + path, headers={"Authorization": f"Bearer {server['admin']}"},
                         timeout=10, **kw)


def _actions(server) -> list[dict]:  # noqa: ANN001
    from seawall.storage.sql import open_store

    store = open_store(f"sqlite:///{server['home'] / 'seawall.db'}", migrate=False)
    try:
        return store.list_actions(limit=1000)
    finally:
        store.close()


def _until(page, js: str, timeout: float = 10.0) -> None:  # noqa: ANN001
    """Poll a JS expression (page.wait_for_function would need 'unsafe-eval', which the console's
    Content-Security-Policy rightly refuses)."""
    deadline = time.time() + timeout
    while not page.evaluate(f"() => Boolean({js})"):
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {js}")
        time.sleep(0.05)


def _shot(page, name: str) -> None:  # noqa: ANN001
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=False)


def test_a_reviewers_day(server, browser):
    base = server["base"]
    page = _page(browser)
    page.goto(f"{base}/console")
    page.get_by_label("Username").fill("rita")
    page.get_by_label("Password").fill("wrong password here")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("#login-error:text('wrong username or password')")
    assert not page.locator("header#top").is_visible()  # nothing but the form before login
    _shot(page, "login.png")
    _login(page, base, "rita")
    # The queue: priority order puts the widely-followed, fast-spreading post first.
    page.wait_for_selector("aside.queues li.current:has-text('threats')")
    rows = page.locator("table.cases tbody tr")
    assert rows.count() >= 4
    assert "mayor_office" in rows.nth(0).inner_text()
    assert page.locator("#exposure-count").inner_text() == "0"
    page.locator(".sla").first.wait_for()
    _shot(page, "queue.png")
    # j/k move the selection
    page.keyboard.press("j")
    assert rows.nth(1).get_attribute("aria-selected") == "true"
    page.keyboard.press("k")
    assert rows.nth(0).get_attribute("aria-selected") == "true"
    page.keyboard.press("Enter")
    page.wait_for_selector("section.case")
    img = page.locator("figure.tile img")
    assert "view=blurred" in img.get_attribute("src")
    _until(page, "document.querySelector('figure.tile img').naturalWidth > 0")
    # the blurred preview is greyscale (made on the server)
    assert page.evaluate("""() => { const i = document.querySelector('figure.tile img'); const c = document.createElement('canvas');
        c.width = i.naturalWidth; c.height = i.naturalHeight; const x = c.getContext('2d'); x.drawImage(i, 0, 0);
        const d = x.getImageData(0, 0, c.width, c.height).data; let m = 0;
        for (let k = 0; k < d.length; k += 4 * 97) m = Math.max(m, Math.abs(d[k] - d[k + 1]), Math.abs(d[k + 1] - d[k + 2]));
        return m; }""") <= 3
    page.keyboard.press("c")
    page.wait_for_selector(".claim.mine")
    _shot(page, "case-blurred.png")
    page.get_by_role("button", name="Reveal image media[0] (counts towards your daily limit)").click()
    page.wait_for_selector("figure.tile img.revealed")
    _until(page, "document.querySelector('figure.tile img.revealed').naturalWidth > 0")
    assert page.locator("#exposure-count").inner_text() == "1"
    _shot(page, "case-revealed.png")
    case_id = int(page.locator("section.case").get_attribute("aria-label").split()[-1])
    # decide: r, notes, Ctrl+Enter
    page.keyboard.press("r")
    page.locator("#decision-notes").fill("Credible threat against a named official; image shows the location.")
    assert page.locator("#apply").inner_text() == "Apply: remove"
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#toast:has-text('Applied')")
    removal = [a for a in _actions(server) if a["idempotency_key"] == "remove:post:post-1"]
    assert len(removal) == 1 and removal[0]["rule"].startswith("review:reviewer-") and "rita" not in removal[0]["rule"]
    # the platform sends the user's appeal
    r = httpx.post(f"{base}/v1/appeals", headers={"Authorization": f"Bearer {server['ingest']}"}, json={
        "id": "appeal-77", "subject_type": "post", "subject_id": "post-1", "appellant": "acc-loud",
        "text": "This was a quote from a film, not a threat. Please restore my post."})
    assert r.status_code == 201, r.text
    page.goto(f"{base}/console#/case/{case_id}")
    page.wait_for_selector(f"section.case[aria-label='Case {case_id}'] .chip.appeal")
    page.keyboard.press("c")
    page.wait_for_selector("#toast:has-text('different reviewer')")  # not rita again
    page.get_by_role("button", name="Log out").click()
    page.wait_for_selector("form.login")
    # a different reviewer hears the appeal and overturns
    _login(page, base, "otto")
    page.goto(f"{base}/console#/queue/appeals")
    page.wait_for_selector("aside.queues li.current:has-text('appeals')")
    page.locator("table.cases tbody tr").first.click()
    page.wait_for_selector(".appeal-text")
    page.keyboard.press("c")
    page.wait_for_selector("#overturn")
    page.locator("#appeal-notes").fill("Film quote, posted with the film's title. Restore.")
    _shot(page, "appeal.png")
    page.locator("#overturn").click()
    page.wait_for_selector("#toast:has-text('Overturned')")
    restores = [a for a in _actions(server) if a["idempotency_key"] == "restore:remove:post:post-1"]
    assert len(restores) == 1 and restores[0]["kind"] == "restore"
    page.context.close()


def test_two_person_rule_for_a_suspension(server, browser):
    base = server["base"]
    page = _page(browser)
    _login(page, base, "rita")
    page.locator("table.cases tbody tr:has-text('We know where you live')").click()
    page.wait_for_selector("section.case")
    page.keyboard.press("c")
    page.wait_for_selector(".claim.mine")
    page.keyboard.press("s")
    assert page.locator("#apply").inner_text() == "Propose: suspend"
    page.locator("#decision-notes").fill("Threat against family; account posts nothing else.")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#toast:has-text('Proposed')")
    assert not [a for a in _actions(server) if a["idempotency_key"].startswith("suspend:account:acc-anon")]
    page.context.close()
    senior = _page(browser)
    _login(senior, base, "sena")
    senior.locator("table.cases tbody tr:has-text('We know where you live')").click()
    senior.wait_for_selector(".pending")
    senior.locator("#confirm-notes").fill("Agreed.")
    _shot(senior, "two-person.png")
    senior.locator("#confirm").click()
    senior.wait_for_selector("#toast:has-text('Confirmed')")
    assert len([a for a in _actions(server) if a["idempotency_key"] == "suspend:account:acc-anon:0"]) == 1
    senior.context.close()


def test_csrf_and_roles_in_the_browser(server, browser):
    base = server["base"]
    page = _page(browser)
    _login(page, base, "audrey")  # an auditor reads queues but may not claim or decide
    case_id = page.locator("table.cases tbody tr td.id a").first.inner_text().lstrip("#")
    status = page.evaluate("""async (id) => (await fetch(`/v1/cases/${id}/claim`, {method: 'POST'})).status""", case_id)
    assert status == 403  # no CSRF token
    res = page.evaluate("""async (id) => { const s = await (await fetch('/v1/session')).json();
        const r = await fetch(`/v1/cases/${id}/claim`, {method: 'POST', headers: {'X-CSRF-Token': s.csrf_token}});
        return [r.status, (await r.json()).error.reason]; }""", case_id)
    assert res[0] == 403 and "auditor" in res[1]  # the token is right; the role is not
    page.locator("table.cases tbody tr").first.click()
    page.wait_for_selector("section.case")
    page.keyboard.press("c")
    page.wait_for_selector("#toast:has-text('auditor')")
    page.context.close()
    # a reviewer's token does work
    page = _page(browser)
    _login(page, base, "otto")
    status = page.evaluate("""async (id) => { const s = await (await fetch('/v1/session')).json();
        return (await fetch(`/v1/cases/${id}/claim`, {method: 'POST', headers: {'X-CSRF-Token': s.csrf_token}})).status; }""",
                           case_id)
    assert status == 200
    page.context.close()


def test_exposure_cap_refuses_further_reveals(server, browser):
    from seawall.storage.sql import open_store

    base = server["base"]
    page = _page(browser)
    _login(page, base, "sena")
    # This server allows three reveals a day (exposure_cap = 3). Four distinct media of a case (the
    # kept picture and three copies of its row) are revealed with the session: the fourth is refused.
    store = open_store(f"sqlite:///{server['home'] / 'seawall.db'}", migrate=False)
    from sqlalchemy import insert, select

    from seawall.review.schema import case_media

    with store.engine.begin() as conn:
        row = conn.execute(select(case_media).limit(1)).mappings().one()
        extra = [conn.execute(insert(case_media).values(**{**dict(row), "id": None, "field": f"media[{i}]"})
                              .returning(case_media.c.id)).scalar_one() for i in range(1, 4)]
    store.close()
    ids = [row["id"], *extra]
    statuses = page.evaluate("""async (ids) => { const s = await (await fetch('/v1/session')).json(); const out = [];
        for (const id of ids) out.push((await fetch(`/v1/media/${id}/reveal`, {method: 'POST',
            headers: {'X-CSRF-Token': s.csrf_token}})).status); return out; }""", ids)
    assert statuses == [200, 200, 200, 429]
    page.reload()
    page.wait_for_selector("#exposure.cap")
    assert page.locator("#exposure-count").inner_text() == "3"
    page.context.close()
