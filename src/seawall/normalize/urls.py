"""URL canonicalisation and extraction (including "defanged" URLs).

canonical_url() gives one spelling per resource so that the same link posted by many accounts, or
stored in a bank of known links, compares equal:

* scheme and host lower-cased; scheme-less "example.com/x" and "www.x.com" taken as http;
  only http, https and ftp are URLs here (mailto:, javascript:, data: are not links to follow);
* "hxxp://", "example[.]com", "example(.)com", "example[dot]com", "[:]//" de-fanged: threat
  reports and evasive posters write links that way so that they are not clickable;
* user-info dropped ("http://google.com@evil.example/" is evil.example), default ports dropped,
  trailing dot of the host dropped;
* `url` keeps the host in its ASCII (punycode) form, the one DNS resolves; `domain` is the host
  decoded to Unicode without a leading "www." (homoglyphs are *not* folded: "раураl.com" in
  Cyrillic is a different, real domain and must be reported as such);
* fragment dropped, except "#!" hash-bang routes (old Twitter links "twitter.com/#!/name" carry
  the path there);
* dot segments removed, empty path -> "/"; percent-encoding normalised (unreserved characters
  decoded, other escapes upper-cased, raw non-ASCII and spaces encoded);
* tracking parameters dropped: utm_*, fbclid, gclid, dclid, gbraid, wbraid, msclkid, yclid,
  twclid, ttclid, igshid, igsh, mc_cid, mc_eid, _hsenc, _hsmi, mkt_tok, ref_src; and per site the
  share markers that are known to be tracking only: Twitter/X "s", "t", "ref_url"; YouTube "si",
  "feature"; Spotify "si"; TikTok "_r", "_t", "is_from_webapp", "sender_device". Parameters that
  can change the page (an "id", "v", "page") are never touched. Remaining parameters are sorted.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import quote, urlsplit

from seawall.normalize.item import CanonicalUrl

_TRACKING = frozenset(
    """fbclid gclid dclid gbraid wbraid msclkid yclid twclid ttclid igshid igsh mc_cid mc_eid
    _hsenc _hsmi mkt_tok ref_src""".split()
)
_SITE_TRACKING = {
    "twitter.com": frozenset({"s", "t", "ref_url"}),
    "x.com": frozenset({"s", "t", "ref_url"}),
    "youtube.com": frozenset({"si", "feature"}),
    "youtu.be": frozenset({"si", "feature"}),
    "spotify.com": frozenset({"si"}),
    "tiktok.com": frozenset({"_r", "_t", "is_from_webapp", "sender_device"}),
}
_DEFAULT_PORTS = {"http": "80", "https": "443", "ftp": "21"}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PCT_RE = re.compile(r"%([0-9A-Fa-f]{2})")
_STRAY_PCT_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_NEEDS_QUOTE = frozenset(' "<>\\^`{|}' + "".join(map(chr, range(33))) + "\x7f")
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_QUERY_SAFE = "/?:@!$'()*+,;-._~%="
_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_IPV4_RE = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_SPACE_RE = re.compile(r"\s")
_SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")

# De-fanging: the bracketed dot and colon forms and hxxp.
_DEFANG_RE = re.compile(
    r"\[\s*(?:\.|dot)\s*\]|\(\s*(?:\.|dot)\s*\)|\{\s*(?:\.|dot)\s*\}|\[:\]|\[://\]|\bh[xX]{2}p(s?)(?=\[?:)",
    re.IGNORECASE,
)


def _defang_sub(m: re.Match[str]) -> str:
    s = m.group()
    if s[0] in "[({":
        return "://" if "//" in s else (":" if ":" in s else ".")
    return "http" + (m.group(1) or "").lower()


def defang(s: str) -> str:
    """Turn "hxxps://evil[.]example" back into "https://evil.example"."""
    if "[" not in s and "(" not in s and "{" not in s and "xx" not in s and "XX" not in s:
        return s
    return _DEFANG_RE.sub(_defang_sub, s)


def _norm_pct(s: str, safe: str) -> str:
    if "%" in s:
        s = _PCT_RE.sub(
            lambda m: c if (c := chr(int(m.group(1), 16))) in _UNRESERVED else "%" + m.group(1).upper(),
            s,
        )
        s = _STRAY_PCT_RE.sub("%25", s)
    if not s.isascii() or not _NEEDS_QUOTE.isdisjoint(s):
        s = quote(s, safe=safe)
    return s


def _remove_dot_segments(path: str) -> str:
    out: list[str] = []
    for seg in path.split("/")[1:]:
        if seg == "..":
            if out:
                out.pop()
        elif seg != ".":
            out.append(seg)
    last = path.rsplit("/", 1)[-1]
    return "/" + "/".join(out) + ("/" if last in (".", "..") and out else "")


def _host(raw_host: str) -> tuple[str, str] | None:
    """(ASCII host for the URL, Unicode host for `domain`), or None when not a host name."""
    host = raw_host.rstrip(".").lower()
    if not host or len(host) > 253:
        return None
    if host.startswith("["):
        return (host, host) if host.endswith("]") and len(host) > 2 else None
    if _IPV4_RE.match(host):
        return (host, host) if all(int(p) <= 255 for p in host.split(".")) else None
    try:
        ascii_host = host if host.isascii() else host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = ascii_host.split(".")
    if len(labels) < 2 or not all(_LABEL_RE.match(lb) for lb in labels):
        return None
    tld = labels[-1]
    if not (tld.isalpha() or tld.startswith("xn--")):
        return None
    if "xn--" in ascii_host:
        try:
            uni = ".".join(
                lb.encode("ascii").decode("idna") if lb.startswith("xn--") else lb for lb in labels
            )
        except UnicodeError:
            uni = ascii_host
    else:
        uni = ascii_host
    return ascii_host, uni


def _site_key(domain: str) -> str:
    parts = domain.split(".")
    return ".".join(parts[-2:])


def canonical_url(raw: str) -> CanonicalUrl | None:
    """The canonical form of one URL, or None when `raw` is not an http(s)/ftp URL."""
    r = _canonical(raw)
    return None if r is None else CanonicalUrl(original=raw, url=r[0], domain=r[1])


@lru_cache(maxsize=65536)
def _canonical(raw: str) -> tuple[str, str] | None:
    # Cached: the same link is posted again and again (campaigns, reposts), and it is a pure function.
    s = defang(raw.strip())
    if not s or len(s) > 4096 or _SPACE_RE.search(s):
        return None
    m = _SCHEME_RE.match(s)
    if s.startswith("//"):
        s = "http:" + s  # protocol-relative
    elif m is not None and s[m.end() : m.end() + 2] == "//":
        if m.group(1).lower() not in _DEFAULT_PORTS:
            return None  # another scheme: tg://, file://
    elif m is not None and "." not in m.group(1) and not s[m.end() : m.end() + 1].isdigit():
        return None  # mailto:, javascript:, data: (but "example.com:8080/x" is a host and port)
    else:
        s = "http://" + s  # "example.com/x", "www.example.com"
    try:
        parts = urlsplit(s)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return None
    hostinfo = parts.netloc.rsplit("@", 1)[-1]
    raw_host = parts.hostname or ""
    if hostinfo.startswith("["):
        raw_host = "[" + raw_host + "]"
    hosts = _host(raw_host)
    if hosts is None:
        return None
    ascii_host, uni_host = hosts
    netloc = ascii_host
    if port is not None and str(port) != _DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    path = parts.path or "/"
    if "/." in path:
        path = _remove_dot_segments(path)
    path = _norm_pct(path, _PATH_SAFE)
    domain = uni_host[4:] if uni_host.startswith("www.") else uni_host
    query = ""
    if parts.query:
        site = _SITE_TRACKING.get(_site_key(domain), frozenset())
        kept: list[tuple[str, str]] = []
        for pair in parts.query.split("&"):
            if not pair:
                continue
            key = pair.split("=", 1)[0]
            k = _norm_pct(key, _QUERY_SAFE).lower()
            if k.startswith("utm_") or k in _TRACKING or k in site:
                continue
            kept.append((_norm_pct(key, _QUERY_SAFE), _norm_pct(pair, _QUERY_SAFE)))
        kept.sort()
        query = "&".join(p for _, p in kept)
    url = f"{scheme}://{netloc}{path}"
    if query:
        url += "?" + query
    if parts.fragment.startswith("!"):
        url += "#" + _norm_pct(parts.fragment, _PATH_SAFE)
    return url, domain


# --- extraction from free text ----------------------------------------------------------------
# Candidates are found by literal anchors ("://", "www.", ".com"...), which the regex engine finds
# with a fast C scan, then widened to the whole URL: one regex alternation over every position of
# the text (as a single URL pattern would be) costs about 30 times more on tweet-length text.
# Bare domains (no scheme, no "www.") are taken only with a lower-case TLD that is common in
# links, so that "file.txt" or "the end.So" in prose is not mistaken for a link.
_BARE_TLDS = (
    "com net org info biz io co me ly tv cc ws gg to su ru ua de fr uk es it nl be ch at pl tr ir "
    "pk in id my ph so ke ng eg sa ae iq sy jo lb qa kw ps ma dz tn af us ca au nz jp cn kr br mx "
    "app dev xyz online site top club live news tk ml ga cf gq pw ee gd gy do se st moe sh link"
).split()
_ANCHOR_RE = re.compile(
    r"://|www\.|WWW\.|\.(?:" + "|".join(sorted(_BARE_TLDS, key=len, reverse=True)) + r")(?![\w-])"
)
_URL_TAIL_RE = re.compile(r"[^\s<>\"'`\u00ab\u00bb\u201c\u201d\u2018\u2019\u060c\u061b]*")
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
_TRAILING = ".,;:!?*'\"’”»)]}…،؛"


def _trim(u: str) -> str:
    while u and u[-1] in _TRAILING:
        if u[-1] == ")" and u.count("(") >= u.count(")"):
            break  # balanced: wikipedia.org/wiki/Foo_(bar)
        u = u[:-1]
    return u


def extract_urls(text: str) -> list[str]:
    """URL strings found in free text, de-fanged ("hxxp", "[.]"), in order, without duplicates.

    What is returned is the URL as written once de-fanged; canonical_url() canonicalises it.
    """
    if "." not in text and "[" not in text and "(" not in text and "{" not in text:
        return []
    s = defang(text)
    found: list[str] = []
    done = 0  # end of the last URL taken: anchors inside it ("/x.com/") are part of it
    for m in _ANCHOR_RE.finditer(s):
        a = m.start()
        if a < done:
            continue
        anchor = m.group()
        start = a
        if anchor == "://":
            while start > 0 and s[start - 1] in _SCHEME_CHARS:
                start -= 1
            if start == a:
                continue
        elif anchor[0] == ".":
            while start > 0 and s[start - 1] in _HOST_CHARS:
                start -= 1
            if start == a or (start > 0 and s[start - 1] in "@/\\") or s[start] in ".-":
                continue  # an e-mail address, a path, or not a host name
        elif start > 0 and (s[start - 1].isalnum() or s[start - 1] in "./"):
            continue  # "awww.", or "www." inside a path
        end = _URL_TAIL_RE.match(s, a).end()  # type: ignore[union-attr]
        done = end
        u = _trim(s[start:end])
        if u and u not in found:
            found.append(u)
    return found
