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
