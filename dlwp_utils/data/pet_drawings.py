"""Procedural cat and dog pictures: the offline stand-in for the Kaggle dogs-vs-cats photos.

Each picture is a furry head on a cluttered background, at a random place, size, angle and
colour, saved as a JPEG of random size and quality. Cats have pointed ears standing up, almond
eyes and whiskers; dogs have floppy ears hanging down, round eyes and a muzzle with a big nose.
Fur colours, backgrounds and clutter are shared by both classes, and the clutter includes the
same shapes (triangles, ellipses), so a model has to look at the arrangement, not at one colour.
"""

from __future__ import annotations

import io
import math

import numpy as np

CLASSES = ("cat", "dog")
FURS = [(230, 140, 60), (120, 120, 125), (40, 35, 35), (235, 225, 210), (150, 100, 60), (200, 170, 120),
        (90, 60, 40), (180, 180, 185)]
SUPERSAMPLE = 2


def draw_pet(kind: str, rng: np.random.Generator) -> bytes:
    """One JPEG picture (as bytes) of a `kind` ("cat" or "dog"), with random size and look."""
    from PIL import Image, ImageDraw, ImageFilter

    if kind not in CLASSES:
        raise ValueError(f"kind must be one of {CLASSES}, not {kind!r}")
    width, height = (int(v) for v in rng.integers(64, 161, size=2))
    s = SUPERSAMPLE
    image = Image.new("RGB", (width * s, height * s), _random_colour(rng))
    draw = ImageDraw.Draw(image)
    _background(draw, width * s, height * s, rng)
    side = min(width, height) * s
    head = side * rng.uniform(0.26, 0.38)
    cx = width * s * rng.uniform(0.3, 0.7)
    cy = height * s * rng.uniform(0.35, 0.7)
    fur = tuple(int(np.clip(c + rng.normal(0, 18), 0, 255)) for c in FURS[rng.integers(len(FURS))])
    angle = rng.uniform(-0.35, 0.35)
    (_cat if kind == "cat" else _dog)(draw, cx, cy, head, angle, fur, rng)
    # A few clutter shapes in front, sometimes hiding part of the head.
    for _ in range(int(rng.integers(0, 2))):
        _shape(draw, width * s, height * s, rng, small=True)
    image = image.resize((width, height), Image.LANCZOS)
    if rng.random() < 0.3:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=int(rng.integers(60, 95)))
    return buffer.getvalue()


def _random_colour(rng: np.random.Generator) -> tuple[int, int, int]:
    return tuple(int(v) for v in rng.integers(0, 256, size=3))


def _background(draw, width: int, height: int, rng: np.random.Generator) -> None:
    """A floor line and clutter shapes of the same kinds the animals are made of."""
    if rng.random() < 0.6:
        y = height * rng.uniform(0.5, 0.9)
        draw.rectangle([0, y, width, height], fill=_random_colour(rng))
    for _ in range(int(rng.integers(2, 7))):
        _shape(draw, width, height, rng, small=False)


def _shape(draw, width: int, height: int, rng: np.random.Generator, *, small: bool) -> None:
    size = min(width, height) * (rng.uniform(0.04, 0.12) if small else rng.uniform(0.08, 0.35))
    x, y = rng.uniform(0, width), rng.uniform(0, height)
    colour = _random_colour(rng)
    kind = rng.integers(4)
    if kind == 0:
        draw.ellipse([x - size, y - size * rng.uniform(0.4, 1), x + size, y + size], fill=colour)
    elif kind == 1:
        draw.rectangle([x - size, y - size * rng.uniform(0.3, 1), x + size, y + size], fill=colour)
    elif kind == 2:
        a = rng.uniform(0, 2 * math.pi)
        draw.polygon([(x + size * math.cos(a + k * 2.1), y + size * math.sin(a + k * 2.1)) for k in range(3)],
                     fill=colour)
    else:
        draw.line([x, y, x + rng.uniform(-2, 2) * size, y + rng.uniform(-2, 2) * size], fill=colour,
                  width=max(1, int(size / 6)))


def _rotate(cx: float, cy: float, angle: float):
    cos, sin = math.cos(angle), math.sin(angle)

    def point(dx: float, dy: float) -> tuple[float, float]:
        return cx + dx * cos - dy * sin, cy + dx * sin + dy * cos

    return point


def _ellipse(draw, at, dx: float, dy: float, rx: float, ry: float, fill, angle: float) -> None:
    """An ellipse centred at offset (dx, dy), drawn as a polygon so that it rotates with the head."""
    points = []
    for k in range(24):
        t = 2 * math.pi * k / 24
        points.append(at(dx + rx * math.cos(t), dy + ry * math.sin(t)))
    draw.polygon(points, fill=fill)


def _darker(colour, factor: float):
    return tuple(int(c * factor) for c in colour)


def _cat(draw, cx, cy, r, angle, fur, rng) -> None:
    at = _rotate(cx, cy, angle)
    ear = rng.uniform(0.75, 1.05)
    for side in (-1, 1):  # pointed ears standing up
        base_in, base_out = side * r * 0.15, side * r * 0.95
        tip = (side * r * rng.uniform(0.55, 0.8), -r * (0.45 + ear))
        draw.polygon([at(base_in, -r * 0.55), at(base_out, -r * 0.25), at(*tip)], fill=fur)
        draw.polygon([at(base_in * 1.6, -r * 0.6), at(base_out * 0.8, -r * 0.4),
                      at(tip[0] * 0.95, tip[1] * 0.8)], fill=(235, 160, 170))
    _ellipse(draw, at, 0, 0, r, r * rng.uniform(0.8, 0.92), fur, angle)
    if rng.random() < 0.5:  # tabby stripes
        stripe = _darker(fur, 0.55)
        for k in (-1, 0, 1):
            draw.line([at(k * r * 0.25, -r * 0.85), at(k * r * 0.2, -r * 0.45)], fill=stripe, width=max(1, int(r / 9)))
    eye = (int(rng.integers(120, 230)), int(rng.integers(170, 230)), int(rng.integers(0, 90)))
    for side in (-1, 1):  # almond eyes with a slit pupil
        _ellipse(draw, at, side * r * 0.38, -r * 0.12, r * 0.2, r * 0.11, eye, angle)
        _ellipse(draw, at, side * r * 0.38, -r * 0.12, r * 0.04, r * 0.1, (10, 10, 10), angle)
    draw.polygon([at(-r * 0.1, r * 0.15), at(r * 0.1, r * 0.15), at(0, r * 0.28)], fill=(230, 120, 140))
    for side in (-1, 1):  # whiskers
        for k in (-1, 0, 1):
            draw.line([at(side * r * 0.2, r * 0.3), at(side * r * 1.25, r * (0.2 + 0.15 * k))], fill=(245, 245, 245),
                      width=max(1, int(r / 25)))


def _dog(draw, cx, cy, r, angle, fur, rng) -> None:
    at = _rotate(cx, cy, angle)
    ear_colour = _darker(fur, rng.uniform(0.45, 0.8))
    length = rng.uniform(0.55, 0.85)
    for side in (-1, 1):  # floppy ears hanging down the sides
        _ellipse(draw, at, side * r * 0.92, r * (0.05 + length * 0.3), r * 0.3, r * length, ear_colour, angle)
    _ellipse(draw, at, 0, 0, r * rng.uniform(0.85, 0.95), r, fur, angle)
    if rng.random() < 0.4:  # a patch around one eye
        _ellipse(draw, at, rng.choice([-1, 1]) * r * 0.35, -r * 0.2, r * 0.3, r * 0.3, ear_colour, angle)
    for side in (-1, 1):  # round eyes
        _ellipse(draw, at, side * r * 0.35, -r * 0.2, r * 0.13, r * 0.13, (250, 250, 250), angle)
        _ellipse(draw, at, side * r * 0.35, -r * 0.2, r * 0.09, r * 0.09, (45, 25, 10), angle)
    muzzle = tuple(min(255, int(c * 0.6 + 100)) for c in fur)
    _ellipse(draw, at, 0, r * 0.4, r * 0.45, r * 0.33, muzzle, angle)
    _ellipse(draw, at, 0, r * 0.27, r * 0.2, r * 0.13, (20, 20, 20), angle)  # big nose
    if rng.random() < 0.5:  # tongue
        _ellipse(draw, at, 0, r * 0.78, r * 0.14, r * 0.2, (225, 90, 110), angle)
