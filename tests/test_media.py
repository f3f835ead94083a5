"""Media decoding within limits and hashing (MD5, SHA-256, PDQ with quality and dihedral variants)."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from seawall.banks.index import hex_to_words
from seawall.media import MediaError, decode_image, hash_bytes, hash_file, read_media
from tests.conftest import SHARED_DATA

REF = SHARED_DATA / "images" / "pdq_reference"
needs_ref = pytest.mark.skipif(not REF.is_dir(), reason="shared/data/images/pdq_reference not present")


def _dist(a: str, b: str) -> int:
    return int(np.bitwise_count(hex_to_words([a])[0] ^ hex_to_words([b])[0]).sum())


def _png(w: int = 64, h: int = 48) -> bytes:
    rng = np.random.default_rng(0)
    img = Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8), "RGB")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _with_png_size(data: bytes, w: int, h: int) -> bytes:
    # rewrite the IHDR chunk's width and height (and its CRC): a tiny file claiming a huge canvas
    ihdr = bytearray(data[12:29])
    ihdr[4:12] = struct.pack(">II", w, h)
    crc = struct.pack(">I", zlib.crc32(bytes(ihdr)) & 0xFFFFFFFF)
    return data[:12] + bytes(ihdr) + crc + data[33:]


def test_hashes_of_bytes():
    data = _png()
    h = hash_bytes(data)
    assert h.md5 == hashlib.md5(data).hexdigest() and h.sha256 == hashlib.sha256(data).hexdigest()
    assert len(h.pdq) == 64 and 0 <= h.quality <= 100 and (h.width, h.height) == (64, 48)
    d = hash_bytes(data, dihedral=True)
    assert d.pdq == h.pdq and len(d.dihedral) == 8 and d.dihedral[0] == h.pdq


def test_decompression_bomb_is_refused_before_decoding():
    bomb = _with_png_size(_png(), 100_000, 100_000)
    with pytest.raises(MediaError) as e:
        decode_image(bomb)
    assert e.value.reason == "decompression_bomb" and "pixels" in str(e.value)
    with pytest.raises(MediaError) as e:  # under Pillow's own limit, over ours: checked from the header
        decode_image(_with_png_size(_png(), 10_000, 10_000))
    assert e.value.reason == "decompression_bomb" and "10000x10000" in str(e.value)
    with pytest.raises(MediaError) as e:
        decode_image(_png(200, 200), max_pixels=10_000)
    assert e.value.reason == "too_many_pixels"
    # not strict: the exact hashes are still there, the PDQ error says why
    h = hash_bytes(bomb)
    assert h.pdq is None and h.error.reason == "decompression_bomb" and h.sha256


def test_truncated_and_corrupt_files():
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (300, 300, 3), dtype=np.uint8)).save(buf, "JPEG")
    jpeg = buf.getvalue()
    with pytest.raises(MediaError) as e:
        decode_image(jpeg[: len(jpeg) // 2])
    assert e.value.reason == "truncated"
    with pytest.raises(MediaError) as e:
        decode_image(b"this is not an image at all")
    assert e.value.reason == "unsupported_format"
    with pytest.raises(MediaError) as e:
        decode_image(b"")
    assert e.value.reason == "corrupt"


def test_size_limits_and_paths(tmp_path: Path):
    p = tmp_path / "a.png"
    p.write_bytes(_png())
    assert read_media(p) == p.read_bytes()
    with pytest.raises(MediaError) as e:
        read_media(p, max_bytes=100)
    assert e.value.reason == "too_large"
    with pytest.raises(MediaError) as e:
        read_media(tmp_path / "missing.png")
    assert e.value.reason == "not_found"
    with pytest.raises(MediaError) as e:
        read_media(tmp_path)
    assert e.value.reason == "not_a_file"
    with pytest.raises(MediaError):
        hash_bytes(b"x" * 200, max_bytes=100)


def test_transparent_and_greyscale_modes_decode():
    for mode in ("RGBA", "LA", "L", "P", "I", "1", "CMYK"):
        img = Image.new(mode, (40, 30))
        buf = io.BytesIO()
        img.save(buf, "TIFF")
        out = decode_image(buf.getvalue())
        assert out.mode == "RGB" and out.size == (40, 30)


@needs_ref
def test_reference_edits_match_the_original_within_31():
    orig = hash_file(REF / "bridge-mods" / "aaa-orig.jpg")
    assert orig.pdq == "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
    for p in sorted((REF / "bridge-mods").glob("*.jpg")) + sorted((REF / "misc-images" / "modes").glob("*")):
        assert _dist(hash_file(p).pdq, orig.pdq) <= 31, p.name
    # unrelated pictures are far away
    for p in sorted((REF / "reg-test-input" / "labelme-subset").glob("*.jpg")):
        assert _dist(hash_file(p).pdq, orig.pdq) > 90, p.name


@needs_ref
def test_flips_and_rotations_match_through_dihedral_variants():
    orig = hash_file(REF / "reg-test-input" / "dih" / "bridge-1-original.jpg").pdq
    for p in sorted((REF / "reg-test-input" / "dih").glob("bridge-[2-8]-*.jpg")):
        h = hash_file(p, dihedral=True)
        assert _dist(h.pdq, orig) > 31, p.name  # plain PDQ does not survive a flip
        assert min(_dist(v, orig) for v in h.dihedral) <= 8, p.name


# -- fetching by URL (seawall.media.fetch), against a real HTTP server on 127.0.0.1 ---------------

import threading  # noqa: E402
import time  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402

from seawall.media.fetch import address_refusal, fetch, host_allowed  # noqa: E402


class _Handler(BaseHTTPRequestHandler):
    image = b""

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict | None = None, length: bool = True) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if length:
            self.send_header("Content-Length", str(len(body)))
        else:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        port = self.server.server_address[1]
        if self.path == "/img.png":
            self._send(200, self.image, {"Content-Type": "image/png"})
        elif self.path == "/same-host-redirect":
            self._send(302, headers={"Location": "/img.png"})
        elif self.path == "/other-host-redirect":
            self._send(302, headers={"Location": f"http://127.0.0.2:{port}/img.png"})
        elif self.path == "/loop":
            self._send(302, headers={"Location": "/loop"})
        elif self.path == "/big-declared":
            self._send(200, b"x" * 5000)
        elif self.path == "/big-streamed":  # no Content-Length: the limit applies while reading
            self._send(200, b"x" * 50_000, length=False)
        elif self.path == "/slow":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(20):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.1)
        else:
            self._send(404)


@pytest.fixture
def http_server():  # noqa: ANN201
    _Handler.image = _png(96, 64)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_fetch_from_an_allowed_local_server(http_server):
    got = fetch(f"http://{http_server}/img.png", allowed_hosts=["127.0.0.1"], allow_private=True)
    assert got.data == _Handler.image and got.content_type == "image/png" and got.address == "127.0.0.1"
    # by name: "localhost" is resolved, the checked address is what is connected to
    port = http_server.split(":")[1]
    got = fetch(f"http://localhost:{port}/same-host-redirect", allowed_hosts=["localhost"], allow_private=True,
                resolve=lambda host, port: ["127.0.0.1"])
    assert got.data == _Handler.image and got.url.endswith("/img.png")


@pytest.mark.parametrize(("path", "kw", "reason"), [
    ("/img.png", {"allowed_hosts": ["media.example.com"], "allow_private": True}, "host_not_allowed"),
    ("/img.png", {"allowed_hosts": []}, "fetch_disabled"),
    ("/img.png", {"allowed_hosts": ["127.0.0.1"]}, "private_address"),  # loopback refused by default
    ("/other-host-redirect", {"allowed_hosts": ["127.0.0.1", "127.0.0.2"], "allow_private": True},
     "redirect_to_other_host"),
    ("/loop", {"allowed_hosts": ["127.0.0.1"], "allow_private": True}, "too_many_redirects"),
    ("/big-declared", {"allowed_hosts": ["127.0.0.1"], "allow_private": True, "max_bytes": 1000}, "too_large"),
    ("/big-streamed", {"allowed_hosts": ["127.0.0.1"], "allow_private": True, "max_bytes": 1000}, "too_large"),
    ("/slow", {"allowed_hosts": ["127.0.0.1"], "allow_private": True, "timeout": 0.5}, "timeout"),
    ("/missing", {"allowed_hosts": ["127.0.0.1"], "allow_private": True}, "http_status"),
])
def test_fetch_refusals(http_server, path, kw, reason):
    with pytest.raises(MediaError) as exc:
        fetch(f"http://{http_server}{path}", **kw)
    assert exc.value.reason == reason


def test_fetch_checks_every_resolved_address_and_the_url():
    def resolver(addresses):  # noqa: ANN001, ANN202
        return lambda host, port: addresses

    for addresses in (["93.184.216.34", "10.0.0.7"], ["169.254.169.254"], ["::1"], ["::ffff:127.0.0.1"],
                      ["fd00::1"], ["100.64.1.1"], ["224.0.0.1"], ["0.0.0.0"]):
        with pytest.raises(MediaError) as exc:
            fetch("http://cdn.example.com/a.jpg", allowed_hosts=["*.example.com"], resolve=resolver(addresses))
        assert exc.value.reason == "private_address", addresses
    for url in ("file:///etc/passwd", "ftp://cdn.example.com/x", "http:///nohost"):
        with pytest.raises(MediaError) as exc:
            fetch(url, allowed_hosts=["*.example.com"])
        assert exc.value.reason == "bad_url"
    with pytest.raises(MediaError) as exc:
        fetch("http://cdn.example.com/a.jpg", allowed_hosts=["*.example.com"], resolve=lambda h, p: [])
    assert exc.value.reason == "unresolvable"
    assert host_allowed("cdn.example.com", ["*.example.com"]) and not host_allowed("example.com", ["*.example.com"])
    assert not host_allowed("evil-example.com", ["*.example.com"]) and host_allowed("Example.COM.", ["example.com"])
    assert address_refusal("93.184.216.34", False) is None and address_refusal("10.0.0.1", True) is None
    assert address_refusal("224.0.0.1", True) is not None


def test_the_signal_fetches_allowed_urls_only(http_server, tmp_path):
    from datetime import datetime, timezone

    from seawall.banks.matcher import BankMatcher
    from seawall.banks.model import Bank, Entry
    from seawall.events.model import MediaRef, PostEvent
    from seawall.normalize import Item
    from seawall.signals.hashbank import HashBankSettings, HashBankSignal

    now = datetime(2015, 6, 1, tzinfo=timezone.utc)
    matcher = BankMatcher(None)
    matcher.banks = {1: Bank(id=1, name="b", label="bad", kind="block", source=None, severity="high", enabled=True,
                             dihedral=False, pdq_threshold=31, description=None, tags=[])}
    sha = hashlib.sha256(_Handler.image).hexdigest()
    matcher.add([Entry(id=1, bank_id=1, bank="b", kind="sha256", value=sha, status="active", tags=[], note=None,
                       ref=None, original=None, hits=0, created_at=now, updated_at=now)])
    ev = PostEvent(id="1", account_id="a", created_at=now, media=[MediaRef(url=f"http://{http_server}/img.png")])
    item = Item(event=ev, key=ev.key(), received_at=0.0)
    off = HashBankSignal(HashBankSettings(), matcher=matcher)
    assert off.evaluate([item]) == [[]]  # fetch_hosts empty: never fetched
    refused = HashBankSignal(HashBankSettings(fetch_hosts=["127.0.0.1"]), matcher=matcher)
    assert refused.evaluate([item]) == [[]]  # loopback without fetch_private
    on = HashBankSignal(HashBankSettings(fetch_hosts=["127.0.0.1"], fetch_private=True), matcher=matcher)
    [[hit]] = on.evaluate([item])
    assert hit.label == "bad" and hit.evidence["matches"][0]["kind"] == "sha256"


# -- video (vPDQ) ---------------------------------------------------------------------------------

import shutil  # noqa: E402
import subprocess  # noqa: E402

from seawall.media.video import hash_video_file, vpdq_available  # noqa: E402

needs_video = pytest.mark.skipif(not (vpdq_available() and shutil.which("ffmpeg")),
                                 reason="needs the vpdq package and ffmpeg (make / .ci/run install them)")


def _video(path: Path, source: str, *extra: str) -> Path:
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", source, "-t", "4",
                    *extra, "-pix_fmt", "yuv420p", str(path)], check=True, timeout=60)
    return path


@needs_video
def test_video_frames_match_a_reencoded_copy_and_not_another_video(tmp_path):
    from datetime import datetime, timezone

    from seawall.banks.matcher import BankMatcher
    from seawall.banks.model import Bank, Entry
    from seawall.events.model import MediaRef, PostEvent
    from seawall.normalize import Item
    from seawall.signals.hashbank import HashBankSettings, HashBankSignal

    orig = _video(tmp_path / "orig.mp4", "testsrc2=size=320x240:rate=10")
    copy = _video(tmp_path / "copy.webm", "testsrc2=size=320x240:rate=10", "-vf", "scale=240:180", "-b:v", "150k")
    other = _video(tmp_path / "other.mp4", "mandelbrot=size=320x240:rate=10")
    v = hash_video_file(orig)
    assert len(v.frames) == 4 and all(len(f.pdq) == 64 for f in v.frames) and v.frames[1].second == 1.0
    c = hash_video_file(copy)
    assert c.sha256 != v.sha256
    assert max(_dist(a.pdq, b.pdq) for a, b in zip(v.frames, c.frames)) <= 31
    with pytest.raises(MediaError) as exc:
        bad = tmp_path / "bad.mp4"
        bad.write_bytes(b"\x00\x00\x00\x18ftypmp42 not really a video")
        hash_video_file(bad)
    assert exc.value.reason == "corrupt"

    now = datetime(2015, 6, 1, tzinfo=timezone.utc)
    matcher = BankMatcher(None)
    matcher.banks = {1: Bank(id=1, name="vids", label="terrorist_propaganda")}
    matcher.add([Entry(id=i + 1, bank_id=1, bank="vids", kind="pdq", value=h, status="active", tags=[], note=None,
                       ref=None, original=None, hits=0, created_at=now, updated_at=now)
                 for i, h in enumerate(v.distinct_pdq(50))])
    signal = HashBankSignal(HashBankSettings(), matcher=matcher)
    items = []
    for pid, p in (("copy", copy), ("other", other)):
        ev = PostEvent(id=pid, account_id="a", created_at=now, media=[MediaRef(kind="video", path=str(p))])
        items.append(Item(event=ev, key=ev.key(), received_at=0.0))
    [copy_hits, other_hits] = signal.evaluate(items)
    [hit] = copy_hits
    assert hit.label == "terrorist_propaganda" and hit.evidence["matches"][0]["kind"] == "pdq"
    assert hit.evidence["matches"][0]["frames_matched"] == {"vids": 4}
    assert other_hits == []
