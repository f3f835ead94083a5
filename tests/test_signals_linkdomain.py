"""The link-domain signal and its list loader."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from seawall.events import AccountEvent, PostEvent
from seawall.normalize import Item, Normalizer
from seawall.signals.linkdomain import LinkDomainSettings, LinkDomainSignal
from seawall.signals.lists import ListError, load_domain_lists, normalize_domain

NOW = datetime(2015, 6, 1, tzinfo=timezone.utc)
HEADER = "domain,category,weight,note\n"


@pytest.fixture(scope="module")
def normalizer() -> Normalizer:
    return Normalizer(["en", "ar"])


@pytest.fixture(scope="module")
def default_signal() -> LinkDomainSignal:
    return LinkDomainSignal()


def post(normalizer: Normalizer, text: str = "", links: list[str] | None = None) -> Item:
    ev = PostEvent(id="1", account_id="a", text=text, links=links or [], created_at=NOW)
    item = Item(event=ev, key=ev.key(), received_at=0.0)
    normalizer.normalize_batch([item])
    return item


def signal_from(tmp_path: Path, body: str) -> LinkDomainSignal:
    p = tmp_path / "d.csv"
    p.write_text(HEADER + body, encoding="utf-8")
    return LinkDomainSignal(LinkDomainSettings(lists=[str(p)]))


def test_default_categories(default_signal):
    assert default_signal.labels() == {"file_locker", "paste_site", "anonymous_upload", "url_shortener"}
    listed = {e.domain for e in default_signal.entries}
    assert {"mega.nz", "justpaste.it", "top4top.io", "bit.ly", "telegra.ph"} <= listed
    # Deliberately absent: a library, mainstream cloud storage, the platforms' own link wrappers.
    assert not listed & {"archive.org", "dropbox.com", "drive.google.com", "t.co", "youtu.be"}


def test_suffix_matching_and_evidence(normalizer, default_signal):
    item = post(
        normalizer,
        "new release hxxps://justpaste[.]it/abc and files.mega.nz/x plus https://notmega.nz/x",
        links=["https://BIT.LY/3xYz?utm_source=tw"],
    )
    hits = {h.label: h for h in default_signal.evaluate([item])[0]}
    assert set(hits) == {"url_shortener", "paste_site", "file_locker"}
    assert hits["file_locker"].evidence["domains"] == ["mega.nz"]
    assert hits["file_locker"].evidence["urls"] == ["http://files.mega.nz/x"]
    assert hits["url_shortener"].evidence["urls"] == ["https://bit.ly/3xYz"]
    assert hits["paste_site"].score == 0.5 and hits["paste_site"].signal == "linkdomain"
    assert hits["paste_site"].evidence["list"] == "domains.csv"


def test_no_hit_for_lookalike_or_unlisted(normalizer, default_signal):
    item = post(normalizer, "see https://mega.nz.example.com/x and https://megа.nz/x and https://example.org")
    assert default_signal.evaluate([item]) == [[]]


def test_one_hit_per_category_with_max_weight(tmp_path, normalizer):
    sig = signal_from(tmp_path, "a.example,lockers,0.3,\nb.example,lockers,0.8,\nc.example,other,0.1,\n")
    item = post(normalizer, "https://a.example/1 https://x.b.example/2 https://a.example/3")
    [hits] = sig.evaluate([item])
    assert [(h.label, h.score) for h in hits] == [("lockers", 0.8)]
    assert hits[0].evidence["domains"] == ["a.example", "b.example"]
    assert len(hits[0].evidence["urls"]) == 3


def test_idna_both_ways(tmp_path, normalizer):
    sig = signal_from(tmp_path, "xn--e1afmkfd.xn--p1ai,idn_cat,1,\nбанк.рф,idn_cat2,1,\n")
    assert {e.domain for e in sig.entries} == {"пример.рф", "банк.рф"}
    a = post(normalizer, "https://пример.рф/a")
    b = post(normalizer, "", links=["https://www.xn--80ab2al.xn--p1ai/x"])  # банк.рф in punycode
    assert [h.label for h in sig.evaluate([a, b])[0]] == ["idn_cat"]
    assert [h.label for h in sig.evaluate([b])[0]] == ["idn_cat2"]


def test_account_links_and_bio(tmp_path, normalizer):
    sig = signal_from(tmp_path, "telegra.ph,paste_site,0.5,\n")
    ev = AccountEvent(id="u", handle="h", bio="read telegra.ph/abc-01-02", created_at=NOW)
    item = Item(event=ev, key=ev.key(), received_at=0.0)
    normalizer.normalize_batch([item])
    assert [h.label for h in sig.evaluate([item])[0]] == ["paste_site"]


def test_normalize_domain():
    assert normalize_domain("WWW.Example.COM.") == "example.com"
    assert normalize_domain("*.example.com") == "example.com"
    assert normalize_domain(".example.com") == "example.com"
    assert normalize_domain("xn--e1afmkfd.xn--p1ai") == "пример.рф"
    assert normalize_domain("bad domain") is None
    assert normalize_domain("-x.com") is None


def test_domain_list_errors_have_line_numbers(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text(
        "# c\n" + HEADER + "not a domain,x,1,\nexample.com,Bad Cat,1,\nexample.org,x,0,\nexample.net,x,,fine\n",
        encoding="utf-8",
    )
    with pytest.raises(ListError) as exc:
        load_domain_lists([str(p)])
    assert [e.split(":")[:2] for e in exc.value.errors] == [["bad.csv", "3"], ["bad.csv", "4"], ["bad.csv", "5"]]
