"""Synthetic test pictures: overlapping shapes, blurred, so they have the low-frequency structure
PDQ is built for (flat random noise would give meaningless hashes)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def synthetic_picture(seed: int = 0, size: tuple[int, int] = (320, 240), shapes: int = 12,
                      blur: float = 1.5) -> Image.Image:
    rng = np.random.default_rng(seed)
    w, h = size
    img = Image.new("RGB", size, tuple(int(v) for v in rng.integers(0, 255, 3)))
    d = ImageDraw.Draw(img)
    for _ in range(shapes):
        x0, y0 = rng.integers(-w // 8, w - w // 16), rng.integers(-h // 6, h - h // 12)
        bw, bh = rng.integers(w // 8, w // 2, 2)
        box = [int(x0), int(y0), int(x0 + bw), int(y0 + bh)]
        col = tuple(int(v) for v in rng.integers(0, 255, 3))
        (d.ellipse if rng.random() < 0.5 else d.rectangle)(box, fill=col)
    return img.filter(ImageFilter.GaussianBlur(blur))
