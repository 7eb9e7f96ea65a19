"""Photos with a real face in them (`SandboxConfig.faces`): what `exodus audit` looks for.

The face is scikit-image's `skimage.data.astronaut()`, a file inside its wheel
(skimage/data/astronaut.png, 512x512): the astronaut Eileen Collins, a NASA photograph.
scikit-image's docstring for it: "No known copyright restrictions, released into the public
domain" (NASA's photographs are works of the US government, not copyrighted in the US).
It is imported only when an account has faces, so the sandbox needs scikit-image only then.

A portrait is her head, cut out with a soft oval, on a generated background (a gradient and
a few blurred shapes), at a scale and place drawn from the seed; `Portrait.box` is where
the face ends up, in the pixels of the original as displayed (no EXIF orientation is written).
"""

from __future__ import annotations

import importlib.util
import io
import math
import random
from dataclasses import dataclass
from functools import lru_cache

from . import media

# Eileen Collins's face in astronaut(), brow to chin and cheek to cheek (x, y, w, h); dlib's
# HOG detector puts it at (179, 83, 88, 88) and OpenCV's Haar cascade at (177, 66, 95, 95):
# this box overlaps each by an IoU above 0.8.
FACE = (178, 74, 91, 92)
# The part of astronaut() pasted: her head, hair, neck and the top of the suit.
HEAD = (136, 8, 320, 236)
# The face's width as a share of the picture's longest side: the audit looks at a picture
# downscaled to 640 px, where this keeps the face between about 90 and 205 px.
SHARE = (0.14, 0.32)
QUALITY = 88
NEEDS = "--faces needs scikit-image (its astronaut photo is the face): pip install scikit-image"


@dataclass(frozen=True)
class Portrait:
    seed: int  # draws the background
    box: tuple[int, int, int, int]  # the face, x y w h, in the original's pixels


def missing() -> str | None:
    """One line when faces cannot be composed here (no scikit-image), else None; without
    importing it (a second), as a config is checked before anything is generated."""
    try:
        found = importlib.util.find_spec("skimage")
    except (ImportError, ValueError):  # ValueError: a module blocked in sys.modules
        found = None
    return NEEDS if found is None else None


def place(rng: random.Random, width: int, height: int) -> Portrait:
    """A face's size and place in a width x height picture, the whole head inside it."""
    head_w, head_h = HEAD[2] - HEAD[0], HEAD[3] - HEAD[1]
    wanted = rng.uniform(*SHARE) * max(width, height)
    fits = min(width * FACE[2] / head_w, height * FACE[2] / head_h)  # face width at which the head fills a side
    face_w = max(4, round(min(wanted, fits)))
    scale = face_w / FACE[2]
    left = rng.uniform(0, max(0.0, width - head_w * scale))
    top = rng.uniform(0, max(0.0, height - head_h * scale))
    x = round(left + (FACE[0] - HEAD[0]) * scale)
    y = round(top + (FACE[1] - HEAD[1]) * scale)
    return Portrait(rng.randrange(1 << 30), (x, y, face_w, round(FACE[3] * scale)))


def frame(width: int, height: int, portrait: Portrait, out_w: int, out_h: int) -> bytes:
    """The portrait of a width x height original drawn at out_w x out_h, as a JPEG frame
    (its segments after SOI and APPn, for media.wrap_jpeg)."""
    return media.jpeg_frame_of(_encoded(width, height, portrait, out_w, out_h))


@lru_cache(maxsize=64)
def _encoded(width: int, height: int, portrait: Portrait, out_w: int, out_h: int) -> bytes:
    """Cached: the sandbox serves the same original many times, and encoding a 24-megapixel
    picture takes a good part of a second."""
    # A size of another shape (Flickr's squares) is the middle of the picture drawn to cover it.
    scale = max(out_w / width, out_h / height)
    drawn_w, drawn_h = max(out_w, math.ceil(width * scale)), max(out_h, math.ceil(height * scale))
    picture = background(random.Random(portrait.seed), drawn_w, drawn_h)
    x, y, w, _ = portrait.box
    face_scale = w * scale / FACE[2]
    cutout, mask = head(face_scale)
    left = round(x * scale - (FACE[0] - HEAD[0]) * face_scale)
    top = round(y * scale - (FACE[1] - HEAD[1]) * face_scale)
    picture.paste(cutout, (left, top), mask)
    if (drawn_w, drawn_h) != (out_w, out_h):
        cut_x, cut_y = (drawn_w - out_w) // 2, (drawn_h - out_h) // 2
        picture = picture.crop((cut_x, cut_y, cut_x + out_w, cut_y + out_h))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=QUALITY)
    return out.getvalue()


def head(face_scale: float):
    """Her head at `face_scale` times its size in astronaut(), and the soft oval that cuts
    it out: (RGB image, L mask), the face at (FACE - HEAD corner) * face_scale in both."""
    from PIL import Image, ImageDraw, ImageFilter

    head_w = max(1, round((HEAD[2] - HEAD[0]) * face_scale))
    head_h = max(1, round((HEAD[3] - HEAD[1]) * face_scale))
    cutout = astronaut().crop(HEAD).resize((head_w, head_h), Image.Resampling.BICUBIC)
    blur = max(1, head_w // 24)
    mask = Image.new("L", (head_w, head_h), 0)  # the oval kept off the edges, so that it fades out within them
    ImageDraw.Draw(mask).ellipse((2 * blur, 2 * blur, head_w - 1 - 2 * blur, head_h - 1 - 2 * blur), fill=255)
    return cutout, mask.filter(ImageFilter.GaussianBlur(blur))


def background(rng: random.Random, width: int, height: int):
    """A soft gradient with a few blurred shapes, drawn small and scaled up (cheap at any size)."""
    from PIL import Image, ImageDraw, ImageFilter

    small_w, small_h = max(1, min(width, 96)), max(1, min(height, 96))
    top, bottom = ([rng.randrange(40, 230) for _ in range(3)] for _ in range(2))
    image = Image.new("RGB", (small_w, small_h))
    draw = ImageDraw.Draw(image)
    for row in range(small_h):
        t = row / max(1, small_h - 1)
        draw.line((0, row, small_w, row), fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom)))
    for _ in range(rng.randrange(2, 6)):
        x, y = rng.randrange(small_w), rng.randrange(small_h)
        r = rng.randrange(3, max(4, small_w // 4))
        colour = tuple(rng.randrange(256) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x - r, y - r, x + r, y + r), fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(1))
    return image.resize((width, height), Image.Resampling.BICUBIC)


@lru_cache(maxsize=1)
def astronaut():
    from PIL import Image
    try:
        from skimage import data
    except ImportError:
        raise RuntimeError(NEEDS) from None
    return Image.fromarray(data.astronaut())
