"""URL canonicalisation and extraction."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.normalize import canonical_url, defang, extract_urls


def url(raw: str) -> str | None:
    cu = canonical_url(raw)
    return None if cu is None else cu.url


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("HTTP://WWW.Example.COM", "http://www.example.com/"),
        ("https://Example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("example.com/x", "http://example.com/x"),
        ("www.example.com", "http://www.example.com/"),
        ("//cdn.example.com/x.js", "http://cdn.example.com/x.js"),
        ("https://example.com/a/./b/../c", "https://example.com/a/c"),
        ("https://example.com/page#section", "https://example.com/page"),
        ("https://twitter.com/#!/someone", "https://twitter.com/#!/someone"),
        ("http://google.com@evil.example/login", "http://evil.example/login"),
        ("https://example.com./", "https://example.com/"),
        ("ftp://files.example.org/pub", "ftp://files.example.org/pub"),
        ("http://192.168.1.10/admin", "http://192.168.1.10/admin"),
    ],
)
def test_canonical_forms(raw, expected):
    assert url(raw) == expected


def test_tracking_params_dropped_and_rest_sorted():
    assert url("https://example.com/a?utm_source=tw&utm_medium=x&b=2&fbclid=1&a=1&gclid=2&igshid=3") == (
        "https://example.com/a?a=1&b=2"
    )
    assert url("https://example.com/?mc_cid=1&mc_eid=2&ref_src=twsrc") == "https://example.com/"


def test_site_specific_trackers_only_on_their_site():
    assert url("https://x.com/u/status/1?s=20&t=abc") == "https://x.com/u/status/1"
    assert url("https://twitter.com/u/status/1?s=20") == "https://twitter.com/u/status/1"
    assert url("https://youtu.be/abc?si=xyz") == "https://youtu.be/abc"
    assert url("https://www.youtube.com/watch?v=ABC&feature=share") == "https://www.youtube.com/watch?v=ABC"
    # "s" and "t" are ordinary parameters elsewhere (a search, a time).
    assert url("https://example.com/search?t=5&s=kill") == "https://example.com/search?s=kill&t=5"


def test_percent_encoding_normalised():
    assert url("https://a.com/%7euser/%e2%82%ac?q=%2f") == "https://a.com/~user/%E2%82%AC?q=%2F"
    assert url("https://a.com/путь") == "https://a.com/%D0%BF%D1%83%D1%82%D1%8C"
    assert url("https://a.com/100%") == "https://a.com/100%25"


def test_idna_host_keeps_real_domain():
    cu = canonical_url("https://ПРИМЕР.рф/x")
    assert cu is not None
    assert cu.url == "https://xn--e1afmkfd.xn--p1ai/x"
    assert cu.domain == "пример.рф"
    puny = canonical_url("http://www.xn--e1afmkfd.xn--p1ai/")
    assert puny is not None and puny.domain == "пример.рф"
    # A Cyrillic look-alike of paypal.com is a different domain and must stay visible as such.
    spoof = canonical_url("https://раураl.com/login")
    assert spoof is not None and spoof.domain == "раураl.com" and spoof.domain != "paypal.com"


def test_domain_drops_www_only():
    assert canonical_url("https://www.example.com/").domain == "example.com"  # type: ignore[union-attr]
    assert canonical_url("https://www2.example.com/").domain == "www2.example.com"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "raw",
    ["", "not a url", "mailto:a@b.com", "javascript:alert(1)", "tg://resolve?domain=x", "localhost:8080",
     "http://999.1.1.1/", "https://a.com/a b", "http://exa mple.com", "http://-bad-.com/", "file:///etc/passwd",
     "http://", "https://.com", "data:text/html,hi"],
)
def test_not_urls(raw):
    assert canonical_url(raw) is None


def test_defang():
    assert defang("hxxps://evil[.]example/x") == "https://evil.example/x"
    assert defang("hXXp://a(.)b{.}c[dot]d") == "http://a.b.c.d"
    assert defang("http[:]//a.com") == "http://a.com"
    assert url("hxxps://justpaste[.]it/abc") == "https://justpaste.it/abc"


def test_extract_urls_from_text():
    text = (
        "check hxxps://evil[.]example/path, www.example.com/x. See (https://en.wikipedia.org/wiki/Foo_(bar)) "
        "or justpaste.it/abc and file.txt end.So mega.nz/#!abc!key «https://a.org/x» "
        "mail me@mail.com رابطhttps://x.com/a، and http://t.co/abc…"
    )
    assert extract_urls(text) == [
        "https://evil.example/path",
        "www.example.com/x",
        "https://en.wikipedia.org/wiki/Foo_(bar)",
        "justpaste.it/abc",
        "mega.nz/#!abc!key",
        "https://a.org/x",
        "https://x.com/a",
        "http://t.co/abc",
    ]


def test_extract_urls_dedupes_and_keeps_path_domains_inside_one_url():
    assert extract_urls("http://a.com/b.com/c http://a.com/b.com/c x.com") == ["http://a.com/b.com/c", "x.com"]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_never_raises(s):
    for u in extract_urls(s):
        canonical_url(u)
    canonical_url(s)
