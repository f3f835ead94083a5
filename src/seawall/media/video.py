"""Video hashing with vPDQ: PDQ hashes of frames sampled from a video (Meta's `vpdq` package,
built against Debian's ffmpeg libraries; optional: without it videos get MD5 and SHA-256 only).

A video is matched frame by frame against the same PDQ index as images: a bank that holds the
frame hashes of a known video (added by `seawall bank add --file video.mp4` or by removal
feedback) catches a re-upload whose frames are within the PDQ threshold, re-encoded, resized or
cut. Frames below the quality floor (black, flat) are dropped: they would match everything.
"""

from __future__ import annotations

import functools

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seawall.media.decode import DEFAULT_MAX_BYTES, MediaError, read_media

DEFAULT_MAX_FRAMES = 600  # at one frame a second: ten minutes of video


@functools.cache  # a failed import is retried on every call otherwise, once per video per batch
def vpdq_available() -> bool:
    try:
        import vpdq  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(slots=True)
class VideoFrame:
    pdq: str
    quality: int
    second: float


@dataclass(slots=True)
class VideoHashes:
    md5: str
    sha256: str
    size: int
    frames: list[VideoFrame] = field(default_factory=list)

    def distinct_pdq(self, min_quality: int = 0) -> list[str]:
        """Distinct frame hashes of at least min_quality, in order of first appearance."""
        return list(dict.fromkeys(f.pdq for f in self.frames if f.quality >= min_quality))

    def as_dict(self) -> dict[str, Any]:
        return {"md5": self.md5, "sha256": self.sha256, "size": self.size,
                "frames": [{"pdq": f.pdq, "quality": f.quality, "second": f.second} for f in self.frames]}


def hash_video_file(path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES,
                    seconds_per_hash: float = 1.0, max_frames: int = DEFAULT_MAX_FRAMES) -> VideoHashes:
    """MD5, SHA-256 and the vPDQ frame hashes (one frame per `seconds_per_hash`) of a video file."""
    data = read_media(path, max_bytes)
    out = VideoHashes(hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest(), len(data))
    out.frames = _frames(str(path), seconds_per_hash, max_frames)
    return out


def hash_video_bytes(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, seconds_per_hash: float = 1.0,
                     max_frames: int = DEFAULT_MAX_FRAMES) -> VideoHashes:
    if len(data) > max_bytes:
        raise MediaError("too_large", f"{len(data)} bytes; the limit is {max_bytes}")
    out = VideoHashes(hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest(), len(data))
    with tempfile.TemporaryDirectory(prefix="seawall-video-") as tmp:
        p = Path(tmp) / "video"
        p.write_bytes(data)
        out.frames = _frames(str(p), seconds_per_hash, max_frames)
    return out


def _frames(path: str, seconds_per_hash: float, max_frames: int) -> list[VideoFrame]:
    try:
        import vpdq
    except ImportError:
        raise MediaError("unsupported_format", "video hashing needs the vpdq package (see docs/hash-matching.md)") from None
    try:
        # frames are scaled to 512x512 before hashing: PDQ squashes every picture to 512x512 itself,
        # so nothing is lost, and a huge frame size cannot make the work unbounded
        feats = vpdq.computeHash(path, seconds_per_hash=seconds_per_hash, downsample_width=512,
                                 downsample_height=512, thread_count=1)
    except Exception as exc:  # vpdq raises a bare Exception for undecodable input
        raise MediaError("corrupt", f"cannot decode the video: {exc}") from None
    if not feats:
        raise MediaError("corrupt", "no frame could be decoded from the video")
    return [VideoFrame(f.hex, int(f.quality), round(float(f.timestamp), 3)) for f in feats[:max_frames]]
