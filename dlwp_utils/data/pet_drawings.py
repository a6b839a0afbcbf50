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

from dlwp_utils.data import exact

CLASSES = ("cat", "dog")
FURS = [(230, 140, 60), (120, 120, 125), (40, 35, 35), (235, 225, 210), (150, 100, 60), (200, 170, 120),
        (90, 60, 40), (180, 180, 185)]
SUPERSAMPLE = 2


def draw_pet(kind: str, rng: np.random.Generator) -> bytes:
    """One JPEG picture (as bytes) of a `kind` ("cat" or "dog"), with random size and look."""
    if kind not in CLASSES:
        raise ValueError(f"kind must be one of {CLASSES}, not {kind!r}")
    width, height = (int(v) for v in rng.integers(64, 161, size=2))
    image = draw_scene(kind, rng, width, height)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=int(rng.integers(60, 95)))
    return buffer.getvalue()


def draw_scene(kind: str, rng: np.random.Generator, width: int, height: int, *, fur=None):
    """A PIL picture of `kind` (a pet, another animal or an object: see KINDS) on clutter.

    `fur` fixes the base colour (else one of FURS at random): the "breeds" of the VGG16 stand-in's
    source task. draw_pet(kind, rng) is this plus a JPEG encoding, with the same random draws.
    """
    from PIL import Image, ImageDraw, ImageFilter

    s = SUPERSAMPLE
    image = Image.new("RGB", (width * s, height * s), _random_colour(rng))
    draw = ImageDraw.Draw(image)
    _background(draw, width * s, height * s, rng)
    side = min(width, height) * s
    head = side * rng.uniform(0.26, 0.38)
    cx = width * s * rng.uniform(0.3, 0.7)
    cy = height * s * rng.uniform(0.35, 0.7)
    base = FURS[rng.integers(len(FURS))] if fur is None else fur
    fur = tuple(int(np.clip(c + rng.normal(0, 18), 0, 255)) for c in base)
    angle = rng.uniform(-0.35, 0.35)
    KINDS[kind](draw, cx, cy, head, angle, fur, rng)
    # A few clutter shapes in front, sometimes hiding part of the head.
    for _ in range(int(rng.integers(0, 2))):
        _shape(draw, width * s, height * s, rng, small=True)
    image = image.resize((width, height), Image.LANCZOS)
    if rng.random() < 0.3:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    return image


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
        draw.polygon([(x + size * exact.cos(a + k * 2.1), y + size * exact.sin(a + k * 2.1)) for k in range(3)],
                     fill=colour)
    else:
        draw.line([x, y, x + rng.uniform(-2, 2) * size, y + rng.uniform(-2, 2) * size], fill=colour,
                  width=max(1, int(size / 6)))


def _rotate(cx: float, cy: float, angle: float):
    cos, sin = exact.cos(angle), exact.sin(angle)

    def point(dx: float, dy: float) -> tuple[float, float]:
        return cx + dx * cos - dy * sin, cy + dx * sin + dy * cos

    return point


def _ellipse(draw, at, dx: float, dy: float, rx: float, ry: float, fill, angle: float) -> None:
    """An ellipse centred at offset (dx, dy), drawn as a polygon so that it rotates with the head."""
    points = []
    for k in range(24):
        t = 2 * math.pi * k / 24
        points.append(at(dx + rx * exact.cos(t), dy + ry * exact.sin(t)))
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


# --- Other animals and objects: the classes of the VGG16 stand-in's source task (never the target) ---

def _eyes(draw, at, r, angle, dy=-0.2, dx=0.35, size=0.12, white=(250, 250, 250), pupil=(20, 20, 20)):
    for side in (-1, 1):
        _ellipse(draw, at, side * r * dx, r * dy, r * size, r * size, white, angle)
        _ellipse(draw, at, side * r * dx, r * dy, r * size * 0.6, r * size * 0.6, pupil, angle)


def _rabbit(draw, cx, cy, r, angle, fur, rng) -> None:
    at = _rotate(cx, cy, angle)
    for side in (-1, 1):  # long ears standing up
        _ellipse(draw, at, side * r * 0.35, -r * 1.2, r * 0.2, r * 0.7, fur, angle)
        _ellipse(draw, at, side * r * 0.35, -r * 1.2, r * 0.1, r * 0.5, (235, 160, 170), angle)
    _ellipse(draw, at, 0, 0, r * 0.85, r * 0.8, fur, angle)
    _eyes(draw, at, r, angle, dy=-0.15, dx=0.35, size=0.1, white=(30, 20, 20), pupil=(5, 5, 5))
    _ellipse(draw, at, 0, r * 0.2, r * 0.08, r * 0.06, (230, 120, 140), angle)
    draw.polygon([at(-r * 0.08, r * 0.35), at(r * 0.08, r * 0.35), at(r * 0.08, r * 0.5), at(-r * 0.08, r * 0.5)],
                 fill=(250, 250, 250))


def _bear(draw, cx, cy, r, angle, fur, rng) -> None:
    at = _rotate(cx, cy, angle)
    for side in (-1, 1):  # small round ears on top
        _ellipse(draw, at, side * r * 0.7, -r * 0.75, r * 0.28, r * 0.28, fur, angle)
        _ellipse(draw, at, side * r * 0.7, -r * 0.75, r * 0.15, r * 0.15, _darker(fur, 0.6), angle)
    _ellipse(draw, at, 0, 0, r, r * 0.9, fur, angle)
    _ellipse(draw, at, 0, r * 0.35, r * 0.35, r * 0.28, tuple(min(255, c + 60) for c in fur), angle)
    _ellipse(draw, at, 0, r * 0.25, r * 0.12, r * 0.08, (15, 10, 10), angle)
    _eyes(draw, at, r, angle, dy=-0.15, dx=0.35, size=0.07, white=(15, 10, 10), pupil=(0, 0, 0))


def _mouse(draw, cx, cy, r, angle, fur, rng) -> None:
    at = _rotate(cx, cy, angle)
    for side in (-1, 1):  # big round ears on the sides
        _ellipse(draw, at, side * r * 0.75, -r * 0.55, r * 0.45, r * 0.45, fur, angle)
        _ellipse(draw, at, side * r * 0.75, -r * 0.55, r * 0.3, r * 0.3, (235, 160, 170), angle)
    draw.polygon([at(-r * 0.6, -r * 0.2), at(r * 0.6, -r * 0.2), at(0, r * 0.9)], fill=fur)  # pointed face
    _ellipse(draw, at, 0, -r * 0.1, r * 0.6, r * 0.5, fur, angle)
    _ellipse(draw, at, 0, r * 0.85, r * 0.08, r * 0.08, (30, 20, 20), angle)
    _eyes(draw, at, r, angle, dy=-0.1, dx=0.25, size=0.08, white=(15, 10, 10), pupil=(0, 0, 0))
    for side in (-1, 1):
        for k in (-1, 1):
            draw.line([at(side * r * 0.1, r * 0.7), at(side * r * 0.8, r * (0.65 + 0.12 * k))], fill=(40, 40, 40),
                      width=max(1, int(r / 25)))


def _fox(draw, cx, cy, r, angle, fur, rng) -> None:
    at = _rotate(cx, cy, angle)
    for side in (-1, 1):  # big pointed ears, dark tips
        draw.polygon([at(side * r * 0.2, -r * 0.5), at(side * r * 0.9, -r * 0.3), at(side * r * 0.75, -r * 1.4)],
                     fill=fur)
        draw.polygon([at(side * r * 0.68, -r * 1.05), at(side * r * 0.82, -r * 1.0), at(side * r * 0.75, -r * 1.4)],
                     fill=(30, 25, 25))
    draw.polygon([at(-r * 0.95, -r * 0.3), at(r * 0.95, -r * 0.3), at(0, r * 0.95)], fill=fur)  # long snout
    draw.polygon([at(-r * 0.7, r * 0.05), at(r * 0.7, r * 0.05), at(0, r * 0.95)], fill=(245, 240, 235))
    _ellipse(draw, at, 0, r * 0.9, r * 0.1, r * 0.08, (20, 20, 20), angle)
    _eyes(draw, at, r, angle, dy=-0.05, dx=0.35, size=0.08, white=(200, 160, 40), pupil=(10, 10, 10))


def _owl(draw, cx, cy, r, angle, fur, rng) -> None:
    at = _rotate(cx, cy, angle)
    for side in (-1, 1):  # ear tufts
        draw.polygon([at(side * r * 0.3, -r * 0.8), at(side * r * 0.8, -r * 0.6), at(side * r * 0.75, -r * 1.15)],
                     fill=_darker(fur, 0.7))
    _ellipse(draw, at, 0, 0, r * 0.9, r, fur, angle)
    for side in (-1, 1):  # huge eyes with rims
        _ellipse(draw, at, side * r * 0.4, -r * 0.2, r * 0.36, r * 0.36, (245, 240, 230), angle)
        _ellipse(draw, at, side * r * 0.4, -r * 0.2, r * 0.22, r * 0.22, (240, 190, 30), angle)
        _ellipse(draw, at, side * r * 0.4, -r * 0.2, r * 0.11, r * 0.11, (10, 10, 10), angle)
    draw.polygon([at(-r * 0.1, r * 0.05), at(r * 0.1, r * 0.05), at(0, r * 0.35)], fill=(230, 150, 40))


def _pig(draw, cx, cy, r, angle, fur, rng) -> None:
    at = _rotate(cx, cy, angle)
    pink = (min(255, fur[0] // 4 + 200), min(255, fur[1] // 4 + 130), min(255, fur[2] // 4 + 140))
    for side in (-1, 1):  # small folded ears
        draw.polygon([at(side * r * 0.3, -r * 0.75), at(side * r * 0.9, -r * 0.5), at(side * r * 0.85, -r * 1.05)],
                     fill=_darker(pink, 0.85))
    _ellipse(draw, at, 0, 0, r, r * 0.85, pink, angle)
    _ellipse(draw, at, 0, r * 0.3, r * 0.35, r * 0.25, _darker(pink, 0.85), angle)
    for side in (-1, 1):
        _ellipse(draw, at, side * r * 0.13, r * 0.3, r * 0.06, r * 0.1, (90, 40, 50), angle)
    _eyes(draw, at, r, angle, dy=-0.3, dx=0.35, size=0.07, white=(20, 20, 20), pupil=(0, 0, 0))


def _panda(draw, cx, cy, r, angle, fur, rng) -> None:
    at = _rotate(cx, cy, angle)
    black, white = (25, 25, 25), (240, 240, 235)
    for side in (-1, 1):
        _ellipse(draw, at, side * r * 0.72, -r * 0.72, r * 0.3, r * 0.3, black, angle)
    _ellipse(draw, at, 0, 0, r, r * 0.9, white, angle)
    for side in (-1, 1):
        _ellipse(draw, at, side * r * 0.38, -r * 0.12, r * 0.22, r * 0.3, black, angle)
        _ellipse(draw, at, side * r * 0.38, -r * 0.18, r * 0.07, r * 0.07, white, angle)
    _ellipse(draw, at, 0, r * 0.3, r * 0.14, r * 0.09, black, angle)


def _frog(draw, cx, cy, r, angle, fur, rng) -> None:
    at = _rotate(cx, cy, angle)
    green = (int(rng.integers(40, 120)), int(rng.integers(140, 220)), int(rng.integers(30, 90)))
    for side in (-1, 1):  # eyes bulging on top
        _ellipse(draw, at, side * r * 0.5, -r * 0.55, r * 0.3, r * 0.3, green, angle)
    _ellipse(draw, at, 0, 0, r * 1.1, r * 0.7, green, angle)
    _eyes(draw, at, r, angle, dy=-0.6, dx=0.5, size=0.2, white=(250, 250, 200), pupil=(10, 10, 10))
    draw.line([at(-r * 0.7, r * 0.2), at(0, r * 0.35), at(r * 0.7, r * 0.2)], fill=(60, 30, 30), width=max(1, int(r / 10)))


def _monkey(draw, cx, cy, r, angle, fur, rng) -> None:
    at = _rotate(cx, cy, angle)
    face = (230, 195, 160)
    for side in (-1, 1):  # round ears on the sides, at eye level
        _ellipse(draw, at, side * r * 1.0, 0, r * 0.28, r * 0.28, fur, angle)
        _ellipse(draw, at, side * r * 1.0, 0, r * 0.16, r * 0.16, face, angle)
    _ellipse(draw, at, 0, 0, r * 0.95, r, fur, angle)
    _ellipse(draw, at, 0, r * 0.15, r * 0.7, r * 0.7, face, angle)
    _eyes(draw, at, r, angle, dy=-0.1, dx=0.25, size=0.09, white=(30, 20, 15), pupil=(0, 0, 0))
    draw.line([at(-r * 0.3, r * 0.5), at(0, r * 0.6), at(r * 0.3, r * 0.5)], fill=(90, 50, 40), width=max(1, int(r / 12)))


def _lion(draw, cx, cy, r, angle, fur, rng) -> None:
    at = _rotate(cx, cy, angle)
    mane = _darker(fur, 0.6)
    points = [at(r * (1.45 if k % 2 else 1.15) * exact.cos(k * math.pi / 12), r * (1.45 if k % 2 else 1.15)
                 * exact.sin(k * math.pi / 12)) for k in range(24)]
    draw.polygon(points, fill=mane)  # a spiky mane all round
    _ellipse(draw, at, 0, 0, r * 0.85, r * 0.85, fur, angle)
    _ellipse(draw, at, 0, r * 0.3, r * 0.3, r * 0.22, tuple(min(255, c + 50) for c in fur), angle)
    draw.polygon([at(-r * 0.12, r * 0.15), at(r * 0.12, r * 0.15), at(0, r * 0.3)], fill=(60, 30, 30))
    _eyes(draw, at, r, angle, dy=-0.2, dx=0.32, size=0.08, white=(200, 150, 30), pupil=(10, 10, 10))


def _bird(draw, cx, cy, r, angle, fur, rng) -> None:
    at = _rotate(cx, cy, angle)
    _ellipse(draw, at, 0, r * 0.2, r * 1.0, r * 0.6, fur, angle)  # body
    _ellipse(draw, at, r * 0.8, -r * 0.4, r * 0.45, r * 0.45, fur, angle)  # head
    draw.polygon([at(r * 1.2, -r * 0.5), at(r * 1.2, -r * 0.25), at(r * 1.7, -r * 0.4)], fill=(240, 170, 30))
    _ellipse(draw, at, 0, r * 0.1, r * 0.55, r * 0.3, _darker(fur, 0.65), angle)  # wing
    draw.polygon([at(-r * 0.9, r * 0.1), at(-r * 1.6, -r * 0.3), at(-r * 1.6, r * 0.5)], fill=_darker(fur, 0.8))
    _ellipse(draw, at, r * 0.9, -r * 0.5, r * 0.08, r * 0.08, (10, 10, 10), angle)


def _fish(draw, cx, cy, r, angle, fur, rng) -> None:
    at = _rotate(cx, cy, angle)
    colour = _random_colour(rng)
    draw.polygon([at(-r * 0.8, 0), at(-r * 1.5, -r * 0.6), at(-r * 1.5, r * 0.6)], fill=_darker(colour, 0.7))
    _ellipse(draw, at, 0, 0, r * 1.1, r * 0.55, colour, angle)
    for k in (-1, 0, 1):
        draw.line([at(k * r * 0.3, -r * 0.45), at(k * r * 0.3, r * 0.45)], fill=_darker(colour, 0.6),
                  width=max(1, int(r / 12)))
    _ellipse(draw, at, r * 0.65, -r * 0.1, r * 0.12, r * 0.12, (250, 250, 250), angle)
    _ellipse(draw, at, r * 0.65, -r * 0.1, r * 0.06, r * 0.06, (10, 10, 10), angle)


def _car(draw, cx, cy, r, angle, fur, rng) -> None:
    at = _rotate(cx, cy, angle)
    colour = _random_colour(rng)
    draw.polygon([at(-r * 1.4, -r * 0.1), at(r * 1.4, -r * 0.1), at(r * 1.4, r * 0.45), at(-r * 1.4, r * 0.45)],
                 fill=colour)
    draw.polygon([at(-r * 0.8, -r * 0.1), at(-r * 0.5, -r * 0.6), at(r * 0.5, -r * 0.6), at(r * 0.8, -r * 0.1)],
                 fill=colour)
    draw.polygon([at(-r * 0.6, -r * 0.15), at(-r * 0.4, -r * 0.5), at(r * 0.4, -r * 0.5), at(r * 0.6, -r * 0.15)],
                 fill=(170, 210, 235))
    for side in (-1, 1):
        _ellipse(draw, at, side * r * 0.85, r * 0.45, r * 0.3, r * 0.3, (20, 20, 20), angle)
        _ellipse(draw, at, side * r * 0.85, r * 0.45, r * 0.12, r * 0.12, (180, 180, 180), angle)


def _house(draw, cx, cy, r, angle, fur, rng) -> None:
    at = _rotate(cx, cy, angle)
    wall, roof = _random_colour(rng), _random_colour(rng)
    draw.polygon([at(-r, -r * 0.2), at(r, -r * 0.2), at(r, r), at(-r, r)], fill=wall)
    draw.polygon([at(-r * 1.2, -r * 0.2), at(r * 1.2, -r * 0.2), at(0, -r * 1.2)], fill=roof)
    draw.polygon([at(-r * 0.2, r * 0.3), at(r * 0.2, r * 0.3), at(r * 0.2, r), at(-r * 0.2, r)], fill=_darker(wall, 0.5))
    for side in (-1, 1):
        draw.polygon([at(side * r * 0.45, r * 0.05), at(side * r * 0.75, r * 0.05), at(side * r * 0.75, r * 0.35),
                      at(side * r * 0.45, r * 0.35)], fill=(170, 210, 235))


def _tree(draw, cx, cy, r, angle, fur, rng) -> None:
    at = _rotate(cx, cy, angle)
    draw.polygon([at(-r * 0.15, 0), at(r * 0.15, 0), at(r * 0.2, r * 1.2), at(-r * 0.2, r * 1.2)], fill=(100, 65, 35))
    green = (int(rng.integers(20, 90)), int(rng.integers(110, 200)), int(rng.integers(20, 80)))
    for dx, dy, rr in ((0, -r * 0.5, 0.7), (-r * 0.5, -r * 0.1, 0.5), (r * 0.5, -r * 0.1, 0.5)):
        _ellipse(draw, at, dx, dy, r * rr, r * rr, green, angle)


def _flower(draw, cx, cy, r, angle, fur, rng) -> None:
    at = _rotate(cx, cy, angle)
    draw.line([at(0, 0), at(0, r * 1.4)], fill=(40, 140, 40), width=max(1, int(r / 8)))
    petal = _random_colour(rng)
    for k in range(6):
        a = k * math.pi / 3
        _ellipse(draw, at, r * 0.5 * exact.cos(a), r * 0.5 * exact.sin(a), r * 0.3, r * 0.3, petal, angle)
    _ellipse(draw, at, 0, 0, r * 0.28, r * 0.28, (245, 200, 40), angle)


def _clock(draw, cx, cy, r, angle, fur, rng) -> None:
    at = _rotate(cx, cy, angle)
    _ellipse(draw, at, 0, 0, r, r, _random_colour(rng), angle)
    _ellipse(draw, at, 0, 0, r * 0.85, r * 0.85, (245, 245, 240), angle)
    for k in range(12):
        a = k * math.pi / 6
        draw.line([at(r * 0.7 * exact.cos(a), r * 0.7 * exact.sin(a)), at(r * 0.8 * exact.cos(a), r * 0.8 * exact.sin(a))],
                  fill=(20, 20, 20), width=max(1, int(r / 15)))
    a, b = rng.uniform(0, 2 * math.pi, 2)
    draw.line([at(0, 0), at(r * 0.4 * exact.cos(a), r * 0.4 * exact.sin(a))], fill=(20, 20, 20), width=max(1, int(r / 8)))
    draw.line([at(0, 0), at(r * 0.65 * exact.cos(b), r * 0.65 * exact.sin(b))], fill=(20, 20, 20), width=max(1, int(r / 12)))


def _mushroom(draw, cx, cy, r, angle, fur, rng) -> None:
    at = _rotate(cx, cy, angle)
    draw.polygon([at(-r * 0.25, 0), at(r * 0.25, 0), at(r * 0.3, r), at(-r * 0.3, r)], fill=(240, 230, 210))
    cap = (int(rng.integers(150, 240)), int(rng.integers(20, 80)), int(rng.integers(20, 60)))
    draw.polygon([at(r * exact.cos(t), -r * 0.8 * exact.sin(t)) for t in np.linspace(0, math.pi, 16)], fill=cap)
    for dx, dy in ((-0.5, -0.3), (0.1, -0.6), (0.5, -0.25)):
        _ellipse(draw, at, dx * r, dy * r, r * 0.12, r * 0.1, (250, 250, 250), angle)


def _cup(draw, cx, cy, r, angle, fur, rng) -> None:
    at = _rotate(cx, cy, angle)
    colour = _random_colour(rng)
    _ellipse(draw, at, r * 0.75, r * 0.1, r * 0.35, r * 0.35, colour, angle)
    _ellipse(draw, at, r * 0.75, r * 0.1, r * 0.2, r * 0.2, _random_colour(rng), angle)
    draw.polygon([at(-r * 0.8, -r * 0.6), at(r * 0.8, -r * 0.6), at(r * 0.6, r * 0.8), at(-r * 0.6, r * 0.8)],
                 fill=colour)
    _ellipse(draw, at, 0, -r * 0.6, r * 0.8, r * 0.15, _darker(colour, 0.5), angle)


def _star(draw, cx, cy, r, angle, fur, rng) -> None:
    at = _rotate(cx, cy, angle)
    draw.polygon([at(r * (1.1 if k % 2 == 0 else 0.45) * exact.sin(k * math.pi / 5),
                     -r * (1.1 if k % 2 == 0 else 0.45) * exact.cos(k * math.pi / 5)) for k in range(10)],
                 fill=(int(rng.integers(200, 256)), int(rng.integers(160, 230)), int(rng.integers(0, 80))))


# kind -> painter(draw, cx, cy, r, angle, fur, rng): the pets, then the source task's other classes.
KINDS = {"cat": _cat, "dog": _dog, "rabbit": _rabbit, "bear": _bear, "mouse": _mouse, "fox": _fox, "owl": _owl,
         "pig": _pig, "panda": _panda, "frog": _frog, "monkey": _monkey, "lion": _lion, "bird": _bird, "fish": _fish,
         "car": _car, "house": _house, "tree": _tree, "flower": _flower, "clock": _clock, "mushroom": _mushroom,
         "cup": _cup, "star": _star}
OTHER_KINDS = tuple(k for k in KINDS if k not in CLASSES)
