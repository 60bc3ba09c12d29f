"""Small real JPEG and PNG files for photo tests (made with Pillow, a few kB each)."""

from __future__ import annotations

import io
import random


def image_bytes(kind: str = "JPEG", seed: int = 0, side: int = 64) -> bytes:
    from PIL import Image

    rng = random.Random(seed)
    image = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
    out = io.BytesIO()
    image.save(out, kind)
    return out.getvalue()
