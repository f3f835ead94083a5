"""Generated pictures for the simulator: "releases" of the extremist network, avatars and ordinary
photos, and the small edits with which known media come back (crop, resize, re-encode, brightness,
mirror).

Pictures are overlapping blurred shapes: they have the low-frequency structure PDQ is built for
(flat noise would give meaningless hashes). Everything is derived from integer seeds, and encoding
is deterministic, so the same seed gives the same bytes.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

SIZE = (320, 240)


def picture(seed: int, size: tuple[int, int] = SIZE, shapes: int = 12, banner: bool = False) -> Image.Image:
    """A synthetic picture. `banner` adds a dark strip with a light mark, as propaganda releases
    carry a logo; it does not make pictures match each other (the shapes dominate the hash)."""
    rng = np.random.default_rng(seed)
    # Drawn at half size and scaled up: edges come out soft, as a blur would make them, at a
    # fraction of a Gaussian blur's cost.
    full = size
    w, h = size = (max(8, size[0] // 2), max(8, size[1] // 2))
    img = Image.new("RGB", size, tuple(int(v) for v in rng.integers(0, 255, 3)))
    d = ImageDraw.Draw(img)
    for _ in range(shapes):
        x0, y0 = rng.integers(-w // 8, w - w // 16), rng.integers(-h // 6, h - h // 12)
        bw, bh = rng.integers(w // 8, w // 2, 2)
        box = [int(x0), int(y0), int(x0 + bw), int(y0 + bh)]
        col = tuple(int(v) for v in rng.integers(0, 255, 3))
        (d.ellipse if rng.random() < 0.5 else d.rectangle)(box, fill=col)
    if banner:
        d.rectangle([0, 0, w, h // 10], fill=(12, 12, 12))
        d.ellipse([w - h // 10, 2, w - 4, h // 10 - 2], fill=(235, 235, 235))
    return img.resize(full, Image.Resampling.BILINEAR).filter(ImageFilter.BoxBlur(1))


def encode(img: Image.Image, fmt: str = "JPEG", quality: int = 85) -> bytes:
    buf = io.BytesIO()
    if fmt == "JPEG":
        img.save(buf, "JPEG", quality=quality, optimize=False, progressive=False)
    else:
        img.save(buf, "PNG", optimize=False, compress_level=6)
    return buf.getvalue()


@dataclass(slots=True)
class Edit:
    """The changes between a known picture and one of its re-uploads (ground truth)."""

    crop: float = 0.0  # share cut from each side
    scale: float = 1.0
    quality: int = 85
    brightness: float = 1.0
    mirror: bool = False
    fmt: str = "JPEG"
    kinds: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"crop": round(self.crop, 4), "scale": round(self.scale, 3), "quality": self.quality,
                "brightness": round(self.brightness, 3), "mirror": self.mirror, "format": self.fmt.lower(),
                "kinds": list(self.kinds)}


def random_edit(rng: random.Random, hard_share: float) -> Edit:
    """The edits re-uploaders make to slip past exact hashes: mostly light (re-encode, resize, a
    thin crop, brightness), a share `hard_share` heavy (a crop of several percent, or a mirror)."""
    e = Edit(kinds=[])
    if rng.random() < 0.8:
        e.quality = rng.randint(45, 90)
        e.kinds.append("reencode")
    if rng.random() < 0.5:
        e.scale = rng.uniform(0.6, 0.95)
        e.kinds.append("resize")
    if rng.random() < 0.4:
        e.crop = rng.uniform(0.003, 0.012)
        e.kinds.append("crop")
    if rng.random() < 0.3:
        e.brightness = rng.uniform(0.9, 1.1)
        e.kinds.append("brightness")
    if rng.random() < 0.15:
        e.fmt = "PNG"
        e.kinds.append("png")
    if rng.random() < hard_share:
        if rng.random() < 0.5:
            e.crop = rng.uniform(0.04, 0.08)
            e.kinds.append("heavy_crop")
        else:
            e.mirror = True
            e.kinds.append("mirror")
    if not e.kinds:
        e.quality = rng.randint(60, 80)
        e.kinds.append("reencode")
    return e


def apply_edit(img: Image.Image, e: Edit) -> bytes:
    w, h = img.size
    if e.crop:
        dx, dy = round(w * e.crop), round(h * e.crop)
        img = img.crop((dx, dy, w - dx, h - dy))
    if e.scale != 1.0:
        img = img.resize((max(16, round(img.width * e.scale)), max(16, round(img.height * e.scale))),
                         Image.Resampling.BILINEAR)
    if e.brightness != 1.0:
        img = ImageEnhance.Brightness(img).enhance(e.brightness)
    if e.mirror:
        img = ImageOps.mirror(img)
    return encode(img, e.fmt, e.quality)
