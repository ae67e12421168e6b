"""
Procedural top-view WeighVision images of pigs of known weight.

No labelled farm images are available here, so the model is trained on scenes drawn from a
simple physical story: a fixed camera above a scale platform, a pig whose projected body area
grows allometrically with weight (A ~ W^(2/3), each animal's length and body condition varying
around it), random pose, floor, lighting, sensor noise and JPEG compression. Every scene comes
from one seed, so a split (train / held-out) is a seed range and is reproducible bit for bit.

Cases and their quality labels (the order of the model's `quality` output):
  normal              one pig fully in frame                   no flag
  not_fully_in_frame  one pig, 12-60 % of its body off-frame   not_fully_in_frame
  multiple_animals    two or three pigs                        multiple_animals
  empty_frame         floor only                               empty_frame
  blurred             one pig in frame, moving (24-64 px)      blurred

Run `ml/.venv/bin/python ml/generate.py --out DIR --count 20 [--case blurred]` to write more labelled
JPEGs with a manifest, `--fixtures --out test/fixtures/weighvision` to rebuild the test fixtures;
training and evaluation import `dataset` from here.
"""
from __future__ import annotations

import argparse
import io
import json
import os
from dataclasses import dataclass, asdict

import numpy as np
from PIL import Image

WIDTH, HEIGHT = 640, 480
QUALITY_LABELS = ("not_fully_in_frame", "multiple_animals", "empty_frame", "blurred")
CASES = ("normal", "not_fully_in_frame", "multiple_animals", "empty_frame", "blurred")
CASE_SHARE = (0.50, 0.13, 0.12, 0.10, 0.15)

# Seed streams: a sample is np.random.default_rng([SPLIT_SEED[split], index]); the streams never overlap.
# `ood_calibration` is in-distribution like `heldout`, used only to set the out-of-distribution threshold (ml/ood.py).
SPLIT_SEED = {"train": 1001, "heldout": 2002, "ood_calibration": 3003}
# Fixtures come from the held-out stream far beyond the evaluated images.
FIXTURE_START = 900_000

WEIGHT_RANGE_KG = (20.0, 130.0)
# Pixel geometry of a 100 kg pig seen from the station camera (~270 px per metre at the platform).
BODY_HALF_LENGTH_100 = 112.0   # trunk, without head
BODY_HALF_WIDTH_100 = 50.0
HEAD_LENGTH_100 = 78.0
HEAD_HALF_WIDTH_100 = 29.0


@dataclass
class Pig:
    weight_kg: float
    cx: float
    cy: float
    angle: float          # body axis, radians
    a: float              # trunk half-length, px
    b: float              # trunk half-width, px
    squareness: float     # superellipse exponent (2 = ellipse)
    bend: float           # body curvature
    head_len: float
    head_hw: float
    head_turn: float      # radians relative to body axis
    skin: tuple           # RGB 0..255
    spots: int            # 0 plain, 1 black patches


def _pig_geometry(ind: np.random.Generator, pose: np.random.Generator, weight: float, px_scale: float) -> dict:
    """Body measures from weight (A ~ W^(2/3)) and the individual's build; pose from the scene."""
    f = (weight / 100.0) ** (1.0 / 3.0) * px_scale
    s_len = np.exp(ind.normal(0, 0.02))
    s_wid = np.exp(ind.normal(0, 0.025))  # body condition
    return dict(
        a=BODY_HALF_LENGTH_100 * f * s_len,
        b=BODY_HALF_WIDTH_100 * f * s_wid,
        squareness=ind.uniform(2.3, 3.2),
        head_len=HEAD_LENGTH_100 * f * np.exp(ind.normal(0, 0.03)),
        head_hw=HEAD_HALF_WIDTH_100 * f * np.exp(ind.normal(0, 0.03)),
        bend=pose.normal(0, 0.0012) / f,
        head_turn=pose.normal(0, 0.25),
    )


def _skin(rng: np.random.Generator) -> tuple[tuple, int]:
    kind = rng.choice(4, p=[0.55, 0.2, 0.13, 0.12])
    if kind == 0:   # pink Landrace / Large White
        base = (rng.uniform(205, 240), rng.uniform(160, 195), rng.uniform(145, 180))
    elif kind == 1:  # very light
        base = (rng.uniform(225, 250), rng.uniform(205, 230), rng.uniform(190, 215))
    elif kind == 2:  # Duroc red-brown
        base = (rng.uniform(150, 190), rng.uniform(85, 115), rng.uniform(60, 85))
    else:            # pink with black patches (Pietrain cross)
        base = (rng.uniform(205, 235), rng.uniform(165, 190), rng.uniform(150, 175))
    return base, int(kind == 3)


def _pig_alpha(pig: Pig, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Soft coverage (0..1) of a pig on a pixel grid, plus body coordinates (u along, v across)."""
    c, s = np.cos(pig.angle), np.sin(pig.angle)
    dx, dy = xs - pig.cx, ys - pig.cy
    u = dx * c + dy * s
    v = -dx * s + dy * c
    v = v - pig.bend * u * u
    p = pig.squareness
    r = (np.abs(u / pig.a) ** p + np.abs(v / pig.b) ** p) ** (1.0 / p)
    body = np.clip((1.0 - r) * min(pig.a, pig.b) + 0.5, 0, 1)
    # head: ellipse hinged at the front of the trunk, turned by head_turn
    hx = pig.a * 0.9
    ch, sh = np.cos(pig.head_turn), np.sin(pig.head_turn)
    hu0, hv0 = u - hx, v - pig.bend * hx * hx
    hu = hu0 * ch + hv0 * sh
    hv = -hu0 * sh + hv0 * ch
    # taper toward the snout
    taper = np.clip(1.0 - 0.45 * np.clip(hu / pig.head_len, 0, 1), 0.3, 1)
    hr = np.sqrt(((hu - pig.head_len * 0.45) / (pig.head_len * 0.55)) ** 2 + (hv / (pig.head_hw * taper)) ** 2)
    head = np.clip((1.0 - hr) * pig.head_hw + 0.5, 0, 1)
    # ears: two small ellipses behind the head's widest part
    ears = np.zeros_like(u)
    for side in (-1, 1):
        er = np.sqrt(((hu - pig.head_len * 0.2) / (pig.head_hw * 0.55)) ** 2
                     + ((hv - side * pig.head_hw * 0.85) / (pig.head_hw * 0.38)) ** 2)
        ears = np.maximum(ears, np.clip((1.0 - er) * pig.head_hw * 0.35 + 0.5, 0, 1))
    # tail: a short thin stub behind
    tr = np.sqrt(((u + pig.a * 1.02) / (pig.a * 0.09)) ** 2 + (v / (pig.b * 0.08)) ** 2)
    tail = np.clip((1.0 - tr) * 3 + 0.5, 0, 1)
    alpha = np.maximum.reduce([body, head, ears, tail])
    return alpha, u, v


def _bbox(pig: Pig, margin: float = 8.0) -> tuple[int, int, int, int]:
    reach = pig.a * 1.1 + pig.head_len * 1.05 + margin
    return (int(np.floor(pig.cx - reach)), int(np.ceil(pig.cx + reach)),
            int(np.floor(pig.cy - reach)), int(np.ceil(pig.cy + reach)))


def inside_fraction(pig: Pig) -> float:
    """Share of the pig's body area inside the 640x480 frame (coarse grid)."""
    x0, x1, y0, y1 = _bbox(pig)
    xs, ys = np.meshgrid(np.arange(x0, x1, 3.0), np.arange(y0, y1, 3.0))
    alpha, _, _ = _pig_alpha(pig, xs, ys)
    total = alpha.sum()
    inside = alpha[(xs >= 0) & (xs < WIDTH) & (ys >= 0) & (ys < HEIGHT)].sum()
    return float(inside / total) if total > 0 else 0.0


def _smooth_noise(rng: np.random.Generator, cells: tuple[int, int], shape=(HEIGHT, WIDTH)) -> np.ndarray:
    small = rng.normal(0, 1, cells).astype(np.float32)
    img = Image.fromarray(small, mode="F").resize((shape[1], shape[0]), Image.BICUBIC)
    return np.asarray(img, dtype=np.float32)


def _window(cx: float, cy: float, reach: float) -> tuple[int, int, int, int]:
    return (max(0, int(cx - reach)), min(WIDTH, int(cx + reach) + 1), max(0, int(cy - reach)), min(HEIGHT, int(cy + reach) + 1))


def _floor(rng: np.random.Generator) -> np.ndarray:
    kind = rng.choice(4, p=[0.4, 0.25, 0.25, 0.1])
    ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    if kind == 0:    # concrete
        base = np.array([rng.uniform(95, 150)] * 3) + rng.normal(0, 6, 3)
    elif kind == 1:  # dirty brown
        base = np.array([rng.uniform(90, 130), rng.uniform(75, 105), rng.uniform(55, 80)])
    elif kind == 2:  # dark slatted / rubber mat
        base = np.array([rng.uniform(45, 85)] * 3) + rng.normal(0, 4, 3)
    else:            # bright: fresh-washed concrete or light rubber (hard for thresholds)
        base = np.array([rng.uniform(160, 195)] * 3) + rng.normal(0, 6, 3)
    tex = (_smooth_noise(rng, (6, 8)) * rng.uniform(4, 14) + _smooth_noise(rng, (48, 64)) * rng.uniform(2, 8))
    img = base.astype(np.float32)[None, None, :] + tex[..., None]
    img += rng.standard_normal((HEIGHT, WIDTH, 1), dtype=np.float32) * rng.uniform(2, 6)
    if kind == 2 or rng.random() < 0.3:  # slats
        period = rng.uniform(28, 60)
        coord = xs if rng.random() < 0.5 else ys
        gap = ((coord + rng.uniform(0, period)) % period) < rng.uniform(4, 9)
        img[gap] *= rng.uniform(0.35, 0.65)
    # clutter: dung patches, wet spots, straw — each drawn only in its own small window
    for _ in range(rng.integers(0, 6)):
        cx, cy, r, squash = rng.uniform(0, WIDTH), rng.uniform(0, HEIGHT), rng.uniform(4, 22), rng.uniform(0.6, 1.6)
        x0, x1, y0, y1 = _window(cx, cy, r * 2 + 2)
        m = np.clip(r - np.sqrt((xs[y0:y1, x0:x1] - cx) ** 2 + ((ys[y0:y1, x0:x1] - cy) * squash) ** 2), 0, 1)
        img[y0:y1, x0:x1] = img[y0:y1, x0:x1] * (1 - m[..., None] * 0.5) + m[..., None] * np.array([60, 50, 35]) * 0.5
    for _ in range(rng.integers(0, 25) if rng.random() < 0.4 else 0):
        cx, cy, ang, ln = rng.uniform(0, WIDTH), rng.uniform(0, HEIGHT), rng.uniform(0, np.pi), rng.uniform(10, 40)
        x0, x1, y0, y1 = _window(cx, cy, ln + 2)
        wx, wy = xs[y0:y1, x0:x1], ys[y0:y1, x0:x1]
        d = np.abs((wx - cx) * np.sin(ang) - (wy - cy) * np.cos(ang))
        t = (wx - cx) * np.cos(ang) + (wy - cy) * np.sin(ang)
        m = np.clip(1.2 - d, 0, 1) * ((t > 0) & (t < ln))
        img[y0:y1, x0:x1] = img[y0:y1, x0:x1] * (1 - m[..., None]) + m[..., None] * np.array([205, 180, 95])
    return img.astype(np.float32)


def _draw_pig(rng: np.random.Generator, pig: Pig, color: np.ndarray, alpha_total: np.ndarray,
              light_dir: np.ndarray) -> None:
    """Composite one pig (with its shadow) onto `color` in place; accumulate its coverage."""
    x0, x1, y0, y1 = _bbox(pig, margin=20)
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, WIDTH), min(y1, HEIGHT)
    if x0 >= x1 or y0 >= y1:
        return
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    # soft drop shadow, offset away from the light
    sh_alpha, _, _ = _pig_alpha(pig, xs - light_dir[0] * 7, ys - light_dir[1] * 7)
    region = color[y0:y1, x0:x1]
    region *= (1 - 0.35 * sh_alpha)[..., None]
    alpha, u, v = _pig_alpha(pig, xs, ys)
    skin = np.array(pig.skin, dtype=np.float32)
    # top light: spine brighter, flanks darker; slight gradient along the body toward the light
    across = np.clip(np.abs(v) / pig.b, 0, 1.3)
    shade = 1.0 - 0.28 * across ** 2 + 0.05 * (u / pig.a) * light_dir[0]
    tone = skin[None, None, :] * shade[..., None]
    mott = _smooth_noise(rng, (max(2, (y1 - y0) // 24), max(2, (x1 - x0) // 24)), (y1 - y0, x1 - x0))
    tone *= (1 + 0.04 * mott)[..., None]
    if pig.spots:
        spot_field = _smooth_noise(rng, (max(2, (y1 - y0) // 40), max(2, (x1 - x0) // 40)), (y1 - y0, x1 - x0))
        m = np.clip((spot_field - 0.7) * 3, 0, 1)
        tone = tone * (1 - m[..., None]) + m[..., None] * np.array([40, 35, 35])
    if rng.random() < 0.35:  # dirt
        dirt_field = _smooth_noise(rng, (max(2, (y1 - y0) // 30), max(2, (x1 - x0) // 30)), (y1 - y0, x1 - x0))
        m = np.clip((dirt_field - 1.0) * 2, 0, 0.6)
        tone = tone * (1 - m[..., None]) + m[..., None] * np.array([95, 75, 50])
    region[:] = region * (1 - alpha[..., None]) + tone * alpha[..., None]
    alpha_total[y0:y1, x0:x1] = np.maximum(alpha_total[y0:y1, x0:x1], alpha)


def _new_pig(rng: np.random.Generator, weight: float, px_scale: float, cx: float, cy: float,
             individual: np.random.Generator | None = None) -> Pig:
    ind = individual if individual is not None else rng
    state = ind.bit_generator.state
    skin, spots = _skin(ind)
    geometry = _pig_geometry(ind, rng, weight, px_scale)
    if individual is not None:  # the same animal on every placement attempt and every photo
        ind.bit_generator.state = state
    return Pig(weight_kg=float(weight), cx=float(cx), cy=float(cy), angle=float(rng.uniform(0, 2 * np.pi)),
               skin=skin, spots=spots, **geometry)


def _place(rng: np.random.Generator, weight: float, px_scale: float, want_inside: tuple[float, float],
           avoid: list[Pig], individual: np.random.Generator | None = None) -> Pig:
    for _ in range(400):
        pig = _new_pig(rng, weight, px_scale, rng.uniform(-60, WIDTH + 60), rng.uniform(-60, HEIGHT + 60), individual)
        frac = inside_fraction(pig)
        if not (want_inside[0] <= frac <= want_inside[1]):
            continue
        if want_inside[0] >= 0.999 and not _clear_of_border(pig):
            continue
        if any(np.hypot(pig.cx - o.cx, pig.cy - o.cy) < (pig.b + o.b) * 2.2 for o in avoid):
            continue
        return pig
    raise RuntimeError("could not place a pig")


def _clear_of_border(pig: Pig, margin: float = 3.0) -> bool:
    x0, x1, y0, y1 = _bbox(pig)
    xs, ys = np.meshgrid(np.arange(x0, x1, 3.0), np.arange(y0, y1, 3.0))
    alpha, _, _ = _pig_alpha(pig, xs, ys)
    on = alpha > 0.05
    return bool(np.all((xs[on] >= margin) & (xs[on] < WIDTH - margin) & (ys[on] >= margin) & (ys[on] < HEIGHT - margin)))


def _motion_blur(img: np.ndarray, alpha: np.ndarray, length: float, angle: float, floor: np.ndarray) -> np.ndarray:
    """Blur the moving animal layer along a line; the floor stays sharp (the camera is fixed)."""
    fg = img - floor * (1 - alpha[..., None])   # premultiplied animal (+ its shadow's effect)
    acc_fg = np.zeros_like(fg)
    acc_a = np.zeros_like(alpha)
    steps = int(max(2, round(length)))
    for t in np.linspace(-length / 2, length / 2, steps):
        dx, dy = int(round(t * np.cos(angle))), int(round(t * np.sin(angle)))
        acc_fg += np.roll(fg, (dy, dx), axis=(0, 1))
        acc_a += np.roll(alpha, (dy, dx), axis=(0, 1))
    acc_fg /= steps
    acc_a /= steps
    return acc_fg + floor * (1 - acc_a[..., None])


def render_scene(rng: np.random.Generator, case: str | None = None,
                 animal: tuple[float, int] | None = None) -> tuple[Image.Image, dict]:
    """One 640x480 RGB station image and its labels.

    `animal` = (weight kg, individual seed) pins the (first) pig, so several photos can show the
    same animal, as a station's images of one weighing do.
    """
    if case is None:
        case = str(rng.choice(CASES, p=CASE_SHARE))
    px_scale = float(np.exp(rng.normal(0, 0.007)))  # camera height tolerance between stations
    weight = float(rng.uniform(*WEIGHT_RANGE_KG))
    individual = None
    if animal is not None:
        weight, individual = animal[0], np.random.default_rng([SPLIT_SEED["heldout"], 77, animal[1]])
    floor = _floor(rng)
    color = floor.copy()
    alpha = np.zeros((HEIGHT, WIDTH), np.float32)
    light_dir = rng.normal(0, 1, 2)
    light_dir /= np.linalg.norm(light_dir) + 1e-9
    pigs: list[Pig] = []
    if case in ("normal", "blurred"):
        pigs.append(_place(rng, weight, px_scale, (0.999, 1.0), [], individual))
    elif case == "not_fully_in_frame":
        pigs.append(_place(rng, weight, px_scale, (0.40, 0.88), [], individual))
    elif case == "multiple_animals":
        pigs.append(_place(rng, weight, px_scale, (0.75, 1.0), [], individual))
        for _ in range(rng.integers(1, 3)):
            other = float(np.clip(weight * np.exp(rng.normal(0, 0.15)), *WEIGHT_RANGE_KG))
            try:
                pigs.append(_place(rng, other, px_scale, (0.55, 1.0), pigs))
            except RuntimeError:
                pass
        if len(pigs) < 2:  # crowded frame: allow the second pig to touch the first
            pigs.append(_place(rng, weight, px_scale, (0.55, 1.0), []))
    for pig in pigs:
        _draw_pig(rng, pig, color, alpha, light_dir)

    blur_px = 0.0
    if case == "blurred":
        blur_px = float(rng.uniform(24, 64))
    elif rng.random() < 0.3:
        blur_px = float(rng.uniform(0, 4))
    if blur_px >= 2:
        color = _motion_blur(color, alpha, blur_px, float(rng.uniform(0, np.pi)), floor)

    # lighting: exposure, gradient, vignette, colour cast; then sensor noise
    ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    gain = rng.uniform(0.65, 1.25)
    grad = 1 + rng.uniform(-0.2, 0.2) * (xs / WIDTH - 0.5) + rng.uniform(-0.2, 0.2) * (ys / HEIGHT - 0.5)
    vig = 1 - rng.uniform(0, 0.35) * (((xs - WIDTH / 2) / WIDTH) ** 2 + ((ys - HEIGHT / 2) / HEIGHT) ** 2) * 2
    cast = np.exp(rng.normal(0, 0.04, 3))
    color = color * (gain * grad * vig)[..., None] * cast[None, None, :]
    color += rng.standard_normal(color.shape, dtype=np.float32) * rng.uniform(1.5, 7)
    img = Image.fromarray(np.clip(color, 0, 255).astype(np.uint8), "RGB")

    flags = {label: False for label in QUALITY_LABELS}
    if case != "normal":
        flags[case] = True
    labels = {
        "case": case,
        "weight_kg": round(weight, 2) if case != "empty_frame" else None,
        "flags": flags,
        "animals": len(pigs),
        "blur_px": round(blur_px, 1),
        "inside_fraction": round(inside_fraction(pigs[0]), 3) if pigs else None,
    }
    return img, labels


def sample_rng(split: str, index: int) -> np.random.Generator:
    return np.random.default_rng([SPLIT_SEED[split], index])


def encode(img: Image.Image, rng: np.random.Generator, fmt: str = "JPEG") -> bytes:
    buf = io.BytesIO()
    if fmt == "JPEG":
        img.save(buf, "JPEG", quality=int(rng.integers(55, 93)))
    else:
        img.save(buf, "PNG", optimize=True)
    return buf.getvalue()


RESIZE_FILTERS = (Image.BILINEAR, Image.BOX, Image.LANCZOS, Image.BICUBIC)


def to_input(data: bytes, size: int = 96, rng: np.random.Generator | None = None) -> np.ndarray:
    """Decode and squash to size x size RGB uint8 (HWC), like weighvision/vision/preprocess.ts (fit: fill).

    With an rng, the resampling filter (and JPEG DCT shrink-on-load) varies, so the network does not
    depend on one resizer's exact kernel — sharp on the edge and PIL here differ slightly.
    """
    img = Image.open(io.BytesIO(data))
    if rng is not None and img.format == "JPEG" and rng.random() < 0.4:
        img.draft("RGB", (size * 2, size * 2))
    img = img.convert("RGB")
    flt = RESIZE_FILTERS[0] if rng is None else RESIZE_FILTERS[int(rng.integers(len(RESIZE_FILTERS)))]
    return np.asarray(img.resize((size, size), flt), dtype=np.uint8)


def make_sample(split: str, index: int, size: int = 96, case: str | None = None, fmt: str = "JPEG"):
    rng = sample_rng(split, index)
    img, labels = render_scene(rng, case)
    data = encode(img, rng, fmt)
    return data, labels, rng


def _dataset_chunk(args):
    split, start, stop, size, augment = args
    from baseline import segment_area  # local import keeps worker start light
    xs, ws, fs, cases, areas = [], [], [], [], []
    for i in range(start, stop):
        data, labels, rng = make_sample(split, i, size)
        xs.append(to_input(data, size, rng if augment else None))
        ws.append(np.nan if labels["weight_kg"] is None else labels["weight_kg"])
        fs.append([labels["flags"][k] for k in QUALITY_LABELS])
        cases.append(CASES.index(labels["case"]))
        areas.append(segment_area(data))
    return (np.stack(xs), np.array(ws, np.float32), np.array(fs, np.float32),
            np.array(cases, np.int8), np.array(areas, np.float32))


def dataset(split: str, count: int, size: int = 96, workers: int = 2, cache_dir: str | None = None) -> dict:
    """Arrays for a split: images uint8 [N,size,size,3], weight_kg (nan = none), flags, case, baseline area."""
    augment = split == "train"
    path = None
    if cache_dir:
        os.makedirs(cache_dir, exist_ok=True)
        path = os.path.join(cache_dir, f"{split}-{count}-{size}.npz")
        if os.path.exists(path):
            return dict(np.load(path))
    chunk = 250
    jobs = [(split, s, min(s + chunk, count), size, augment) for s in range(0, count, chunk)]
    if workers > 1:
        from multiprocessing import Pool
        with Pool(workers) as pool:
            parts = pool.map(_dataset_chunk, jobs)
    else:
        parts = [_dataset_chunk(j) for j in jobs]
    out = {k: np.concatenate([p[i] for p in parts]) for i, k in enumerate(["x", "weight", "flags", "case", "area"])}
    if path:
        np.savez_compressed(path, **out)
    return out


FIXTURE_PLAN = [  # (case, format, same animal?) — the first three are one station's three photos of one pig
    ("normal", "JPEG", True), ("normal", "JPEG", True), ("normal", "JPEG", True), ("normal", "PNG", False),
    ("not_fully_in_frame", "JPEG", False), ("multiple_animals", "JPEG", False), ("empty_frame", "JPEG", False),
    ("blurred", "JPEG", False),
]


def write_fixtures(out_dir: str, start: int = FIXTURE_START) -> None:
    """The test fixtures: held-out seeds far past the evaluated range, with a manifest."""
    os.makedirs(out_dir, exist_ok=True)
    station_pig = (float(np.round(sample_rng("heldout", start).uniform(60, 110), 2)), start)
    manifest = []
    for n, (case, fmt, same_animal) in enumerate(FIXTURE_PLAN):
        index = start + n
        rng = sample_rng("heldout", index)
        img, labels = render_scene(rng, case, station_pig if same_animal else None)
        if fmt == "PNG":  # keep the PNG small: half-size palette frame (64 colours); any frame is squashed to 96x96
            img = img.resize((WIDTH // 2, HEIGHT // 2), Image.BILINEAR).quantize(64)
        data = encode(img, rng, fmt)
        name = f"{n + 1:02d}-{case.replace('_', '-')}.{'jpg' if fmt == 'JPEG' else 'png'}"
        with open(os.path.join(out_dir, name), "wb") as fh:
            fh.write(data)
        x = to_input(data).astype(np.float64) / 255
        manifest.append({
            "file": name,
            "content_type": "image/jpeg" if fmt == "JPEG" else "image/png",
            "size_bytes": len(data),
            "seed": [SPLIT_SEED["heldout"], index],
            "case": case,
            "animal": "station-pig" if same_animal else None,
            "true_weight_kg": labels["weight_kg"],
            "true_flags": [k for k, v in labels["flags"].items() if v],
            # mean R, G, B of the 96x96 model input (0..1) as PIL resizes it: checks channel order and scaling
            "input_mean_rgb": [round(float(v), 4) for v in x.mean(axis=(0, 1))],
        })
    with open(os.path.join(out_dir, "manifest.json"), "w") as fh:
        json.dump({"generator": "ml/generate.py --fixtures", "images": manifest}, fh, indent=2)
        fh.write("\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--split", default="heldout", choices=sorted(SPLIT_SEED))
    ap.add_argument("--start", type=int, help="first seed index (default: 0, or FIXTURE_START with --fixtures)")
    ap.add_argument("--fixtures", action="store_true", help="write the standard 8-image test fixture set")
    ap.add_argument("--count", type=int, default=8)
    ap.add_argument("--case", choices=CASES)
    args = ap.parse_args()
    if args.fixtures:
        write_fixtures(args.out, FIXTURE_START if args.start is None else args.start)
        return
    args.start = args.start or 0
    os.makedirs(args.out, exist_ok=True)
    rows = []
    for i in range(args.start, args.start + args.count):
        data, labels, _ = make_sample(args.split, i, case=args.case)
        name = f"{args.split}-{i:06d}.jpg"
        with open(os.path.join(args.out, name), "wb") as fh:
            fh.write(data)
        rows.append({"file": name, "content_type": "image/jpeg", **labels})
    with open(os.path.join(args.out, "manifest.json"), "w") as fh:
        json.dump({"generator": "ml/generate.py", "images": rows}, fh, indent=2)
        fh.write("\n")


if __name__ == "__main__":
    main()
