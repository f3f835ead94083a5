"""Hashes of media: MD5 and SHA-256 of the bytes, PDQ (with its quality) of the decoded image.

PDQ hex strings use the convention of python-threatexchange and ThreatExchange exports: the 256
bits of pdqhash's vector, first bit most significant, as 64 lower-case hex digits.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from seawall.media.decode import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, MediaError, decode_image, read_media

# The 8 dihedral transforms, in the order pdqhash.compute_dihedral returns them.
DIHEDRAL = ("original", "rotate90", "rotate180", "rotate270", "flip_x", "flip_y", "flip_plus1", "flip_minus1")


def pdq_hex(bits: np.ndarray) -> str:
    return np.packbits(np.asarray(bits, dtype=np.uint8).reshape(-1)[:256]).tobytes().hex()


def pdq_of_image(img: Any, dihedral: bool = False) -> tuple[str, int, list[str]]:
    """(hash, quality 0-100, the 8 dihedral hashes or []) of an RGB PIL image."""
    import pdqhash

    arr = np.ascontiguousarray(np.asarray(img, dtype=np.uint8))
    if dihedral:
        vectors, quality = pdqhash.compute_dihedral(arr)
        hexes = [pdq_hex(v) for v in vectors]
        return hexes[0], int(quality), hexes
    vector, quality = pdqhash.compute(arr)
    return pdq_hex(vector), int(quality), []


@dataclass(slots=True)
class MediaHashes:
    md5: str
    sha256: str
    size: int
    pdq: str | None = None
    quality: int | None = None
    width: int | None = None
    height: int | None = None
    dihedral: list[str] = field(default_factory=list)
    error: MediaError | None = None  # why there is no PDQ (not an image, a bomb...), if so

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"md5": self.md5, "sha256": self.sha256, "bytes": self.size}
        if self.pdq is not None:
            out.update(pdq=self.pdq, quality=self.quality, width=self.width, height=self.height)
        if self.dihedral:
            out["dihedral"] = dict(zip(DIHEDRAL, self.dihedral))
        if self.error is not None:
            out["pdq_error"] = {"reason": self.error.reason, "detail": self.error.detail}
        return out


def hash_bytes(
    data: bytes,
    *,
    image: bool = True,
    dihedral: bool = False,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    strict: bool = False,
) -> MediaHashes:
    """MD5 and SHA-256 always; PDQ when the bytes decode as an image within the limits. With
    strict=True an undecodable image raises MediaError instead of being reported in `.error`."""
    if len(data) > max_bytes:
        raise MediaError("too_large", f"{len(data)} bytes; the limit is {max_bytes}")
    out = MediaHashes(hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest(), len(data))
    if not image:
        return out
    try:
        img = decode_image(data, max_pixels=max_pixels, max_bytes=max_bytes)
    except MediaError as exc:
        if strict:
            raise
        out.error = exc
        return out
    out.width, out.height = img.size
    out.pdq, out.quality, out.dihedral = pdq_of_image(img, dihedral)
    return out


def hash_file(
    path: str | os.PathLike[str],
    *,
    dihedral: bool = False,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    strict: bool = False,
) -> MediaHashes:
    data = read_media(path, max_bytes)
    return hash_bytes(data, dihedral=dihedral, max_pixels=max_pixels, max_bytes=max_bytes, strict=strict)
