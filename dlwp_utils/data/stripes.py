"""Generated pictures for many classes at once: each class a colour and a stripe width (offline, any size)."""

from __future__ import annotations

import numpy as np

from dlwp_utils.data import exact
from dlwp_utils.profile import require_positive

HUES = 10  # class // HUES picks the colour ...
WIDTHS = 10  # ... and class % WIDTHS the stripe period, so 100 classes at most
MAX_CLASSES = HUES * WIDTHS


def striped_pictures(count: int, size: int = 200, classes: int = 100, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(pictures uint8 (count, size, size, 3), labels int64 (count,)): balanced classes, shuffled.

    Class k is horizontal stripes of colour k // 10 (ten hues around the colour wheel) and period
    4 + 3 * (k % 10) pixels, with a random phase and pixel noise, so a convnet must look at both
    the colour and the texture. The same arguments give the same pictures, on any machine (sin and
    cos from dlwp_utils.data.exact).
    """
    require_positive("count", count)
    require_positive("size", size)
    if not 2 <= classes <= MAX_CLASSES:
        raise ValueError(f"striped_pictures makes 2 to {MAX_CLASSES} classes ({HUES} colours x {WIDTHS} stripe "
                         f"widths), not {classes}.")
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(count) % classes)
    angle = 2 * np.pi * (labels // WIDTHS) / HUES
    colours = 0.5 + 0.5 * np.stack([exact.cos(angle), exact.cos(angle - 2 * np.pi / 3), exact.cos(angle + 2 * np.pi / 3)], 1)
    periods = 4 + 3 * (labels % WIDTHS)
    rows = np.arange(size)[None, :, None]
    phases = rng.uniform(0, 2 * np.pi, (count, 1, 1))
    stripes = 0.5 + 0.5 * exact.sin(2 * np.pi * rows / periods[:, None, None] + phases)  # (count, size, 1)
    pictures = np.empty((count, size, size, 3), dtype=np.uint8)
    for i in range(count):  # one picture at a time: no float copy of the whole set in memory
        picture = 0.15 + 0.7 * stripes[i, :, :, None] * colours[i] + rng.normal(0, 0.08, (size, size, 3))
        pictures[i] = (np.clip(picture, 0, 1) * 255).astype(np.uint8)
    return pictures, labels.astype(np.int64)
