"""Reading and decoding media within limits.

Hostile uploads are expected: a file far larger than any real picture, an image whose header
claims billions of pixels (a decompression bomb: a few kilobytes that expand to gigabytes), a
truncated or corrupt file. Each is refused with a `MediaError` naming the reason, before the
expensive step: size before reading, pixel count (from the header) before decoding.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

DEFAULT_MAX_BYTES = 32 * 2**20  # 32 MiB: no legitimate still image in a post is larger
DEFAULT_MAX_PIXELS = 50_000_000  # 50 megapixels (e.g. 8660 x 5773); decoded RGB = 150 MB


class MediaError(ValueError):
    """Media that cannot be hashed. `reason` is one of: not_found, not_a_file, too_large,
    too_many_pixels, decompression_bomb, truncated, unsupported_format, corrupt."""

    def __init__(self, reason: str, detail: str):
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}")


def read_media(path: str | os.PathLike[str], max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The bytes of a local file, refusing anything over max_bytes before reading it."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise MediaError("not_found", f"no such file: {p}") from None
    except OSError as exc:
        raise MediaError("not_found", f"cannot read {p}: {exc.strerror or exc}") from None
    if not p.is_file():
        raise MediaError("not_a_file", f"{p} is not a regular file")
    if st.st_size > max_bytes:
        raise MediaError("too_large", f"{p} is {st.st_size} bytes; the limit is {max_bytes}")
    with open(p, "rb") as f:
        data = f.read(max_bytes + 1)  # the file may have grown since stat()
    if len(data) > max_bytes:
        raise MediaError("too_large", f"{p} is over {max_bytes} bytes")
    return data


def decode_image(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS, max_bytes: int = DEFAULT_MAX_BYTES):  # noqa: ANN201
    """Decode image bytes to an RGB PIL image (the first frame of an animation).

    The header is read first and width x height checked against max_pixels before any pixel data
    is decoded; truncated files are errors, never silently padded.
    """
    from PIL import Image, UnidentifiedImageError

    if len(data) > max_bytes:
        raise MediaError("too_large", f"{len(data)} bytes; the limit is {max_bytes}")
    if not data:
        raise MediaError("corrupt", "empty file")
    with warnings.catch_warnings():
        # Pillow warns at its own bomb limit (and refuses at twice it); our limit, usually lower,
        # is checked explicitly below from the header.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data))  # lazy: reads the header only
        except Image.DecompressionBombError as exc:
            raise MediaError("decompression_bomb", str(exc)) from None
        except UnidentifiedImageError:
            raise MediaError("unsupported_format", "not an image format this build can decode") from None
        except OSError as exc:
            raise MediaError("corrupt", f"cannot read the image header: {exc}") from None
        w, h = img.size
        if w <= 0 or h <= 0:
            raise MediaError("corrupt", f"image claims a size of {w}x{h}")
        if w * h > max_pixels:
            # The classic bomb: a tiny file whose header promises an enormous canvas.
            kind = "decompression_bomb" if w * h > 1000 * len(data) else "too_many_pixels"
            raise MediaError(kind, f"{w}x{h} = {w * h} pixels from {len(data)} bytes; the limit is {max_pixels} pixels")
        try:
            img.seek(0)
            img.load()
        except Image.DecompressionBombError as exc:
            raise MediaError("decompression_bomb", str(exc)) from None
        except OSError as exc:
            msg = str(exc)
            if "truncated" in msg or "broken data stream" in msg or "unexpected end" in msg.lower():
                raise MediaError("truncated", f"the image data ends early ({msg})") from None
            raise MediaError("corrupt", f"cannot decode the image: {msg}") from None
        except (ValueError, SyntaxError, EOFError) as exc:
            raise MediaError("corrupt", f"cannot decode the image: {exc}") from None
    return _to_rgb(img)


def _to_rgb(img):  # noqa: ANN001, ANN202
    from PIL import Image

    if img.mode == "RGB":
        return img
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        # high bit-depth greyscale: scale to 8 bits before colour conversion
        import numpy as np

        a = np.asarray(img, dtype=np.float64)
        lo, hi = float(a.min()), float(a.max())
        a = (a - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(a)
        return Image.fromarray(a.astype(np.uint8), "L").convert("RGB")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        # transparent pixels over white, as most platforms display them
        rgba = img.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(bg, rgba).convert("RGB")
    return img.convert("RGB")
