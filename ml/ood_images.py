"""
Generated images the pig model was NOT trained on, to measure its out-of-distribution check.

Two families, each scene from one seed like ml/generate.py (so a set is reproducible bit for bit):

  non-animal      noise         sensor-like and smooth colour noise at random scales
                  flat          one colour (a covered lens, a lamp, a wall), a little sensor noise
                  gradient      linear or radial blends between two colours
                  geometric     checkerboards, stripes and scattered shapes on a plain ground
                  texture       bricks, wood grain, gravel, grass
                  barn_objects  a station floor (ml/generate.py's floors) holding buckets, feed bags,
                                a pallet, a hose — no animal
  wrong species   broiler       one to six broiler chickens seen from above, on litter or the floor
                  cow           a Holstein-patched cow (often larger than the frame)
                  sheep         a woolly sheep with a dark face (the closest to a pig from above)

The images are 640x480 JPEGs like a station's, so they pass through the same decode and resize
(generate.to_input) as the training images.

Seed streams: sample i of a set is np.random.default_rng([OOD_SEED[set], KINDS.index(kind), i]):
`train` teaches the check's outlier head (ml/ood.py), `dev` was used to choose the check's features,
`eval` is what ml/evaluate.py reports and `fixtures` the committed test images — four streams that
never overlap.

Run `ml/.venv/bin/python ml/ood_images.py --fixtures --out test/fixtures/vision-ood` to rebuild the
test fixtures, or `--out DIR --count 5 [--kind broiler]` to look at some.
"""
from __future__ import annotations

import argparse
import json
import os

import numpy as np
from PIL import Image

import generate
from generate import HEIGHT, WIDTH

KINDS = ("noise", "flat", "gradient", "geometric", "texture", "barn_objects", "broiler", "cow", "sheep")
FAMILY = {k: ("wrong_species" if k in ("broiler", "cow", "sheep") else "non_animal") for k in KINDS}
OOD_SEED = {"dev": 5005, "eval": 6006, "fixtures": 7007, "train": 8008}


def _grid() -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    return xs, ys


def _colour(rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(0, 255, 3).astype(np.float32)


def _noise(rng):
    if rng.random() < 0.5:  # per-pixel sensor noise around a grey
        img = rng.normal(rng.uniform(60, 190), rng.uniform(20, 80), (HEIGHT, WIDTH, 3))
    else:  # smooth colour noise at a random scale
        cells = int(rng.integers(3, 120))
        img = np.stack([generate._smooth_noise(rng, (max(2, cells * 3 // 4), cells)) for _ in range(3)], axis=-1)
        img = 128 + img * rng.uniform(30, 80)
    return img


def _flat(rng):
    return np.broadcast_to(_colour(rng), (HEIGHT, WIDTH, 3)).copy()


def _gradient(rng):
    xs, ys = _grid()
    a, b = _colour(rng), _colour(rng)
    if rng.random() < 0.5:
        ang = rng.uniform(0, 2 * np.pi)
        t = (xs * np.cos(ang) + ys * np.sin(ang))
    else:
        t = -np.hypot(xs - rng.uniform(0, WIDTH), ys - rng.uniform(0, HEIGHT))
    t = (t - t.min()) / (t.max() - t.min() + 1e-6)
    return a * (1 - t[..., None]) + b * t[..., None]


def _geometric(rng):
    xs, ys = _grid()
    kind = rng.integers(3)
    a, b = _colour(rng), _colour(rng)
    if kind == 0:  # checkerboard, rotated
        period, ang = rng.uniform(12, 120), rng.uniform(0, np.pi)
        u, v = xs * np.cos(ang) + ys * np.sin(ang), -xs * np.sin(ang) + ys * np.cos(ang)
        m = ((np.floor(u / period) + np.floor(v / period)) % 2).astype(np.float32)
    elif kind == 1:  # stripes
        period, ang = rng.uniform(8, 90), rng.uniform(0, np.pi)
        m = ((xs * np.cos(ang) + ys * np.sin(ang)) % period < period / 2).astype(np.float32)
    else:  # scattered circles and rectangles
        m = np.zeros((HEIGHT, WIDTH), np.float32)
        img = np.broadcast_to(a, (HEIGHT, WIDTH, 3)).copy()
        for _ in range(rng.integers(3, 25)):
            c = _colour(rng)
            cx, cy, r = rng.uniform(0, WIDTH), rng.uniform(0, HEIGHT), rng.uniform(10, 120)
            if rng.random() < 0.5:
                sel = np.hypot(xs - cx, ys - cy) < r
            else:
                sel = (np.abs(xs - cx) < r) & (np.abs(ys - cy) < r * rng.uniform(0.3, 1.5))
            img[sel] = c
        return img
    return a * (1 - m[..., None]) + b * m[..., None]


def _texture(rng):
    xs, ys = _grid()
    kind = rng.integers(4)
    if kind == 0:  # bricks
        bw, bh = rng.uniform(40, 110), rng.uniform(18, 45)
        row = np.floor(ys / bh)
        mortar = ((ys % bh) < 3) | (((xs + (row % 2) * bw / 2) % bw) < 3)
        brick = np.array([rng.uniform(130, 190), rng.uniform(50, 90), rng.uniform(35, 70)], np.float32)
        img = brick + generate._smooth_noise(rng, (24, 32))[..., None] * 12
        img[mortar] = rng.uniform(150, 210)
    elif kind == 1:  # wood grain
        ang = rng.uniform(0, np.pi)
        u = xs * np.cos(ang) + ys * np.sin(ang) + generate._smooth_noise(rng, (4, 6)) * 25
        grain = np.sin(u / rng.uniform(3, 9)) * 0.5 + 0.5
        wood = np.array([rng.uniform(140, 200), rng.uniform(95, 140), rng.uniform(50, 90)], np.float32)
        img = wood * (0.75 + 0.3 * grain[..., None])
    elif kind == 2:  # gravel: many small stones
        img = np.broadcast_to(np.float32(rng.uniform(70, 130)), (HEIGHT, WIDTH, 3)).copy()
        for _ in range(1500):
            cx, cy, r = rng.uniform(0, WIDTH), rng.uniform(0, HEIGHT), rng.uniform(2, 9)
            x0, x1, y0, y1 = generate._window(cx, cy, r + 1)
            sel = np.hypot(xs[y0:y1, x0:x1] - cx, ys[y0:y1, x0:x1] - cy) < r
            img[y0:y1, x0:x1][sel] = rng.uniform(60, 210) * np.exp(rng.normal(0, 0.06, 3))
    else:  # grass
        g = generate._smooth_noise(rng, (96, 128)) * 0.6 + generate._smooth_noise(rng, (8, 10)) * 0.4
        img = np.stack([70 + 25 * g, 120 + 40 * g, 45 + 15 * g], axis=-1) * rng.uniform(0.7, 1.2)
    return img


def _ellipse(xs, ys, cx, cy, a, b, ang, soft=1.0):
    c, s = np.cos(ang), np.sin(ang)
    u, v = (xs - cx) * c + (ys - cy) * s, -(xs - cx) * s + (ys - cy) * c
    r = np.sqrt((u / a) ** 2 + (v / b) ** 2)
    return np.clip((1 - r) * min(a, b) / soft + 0.5, 0, 1), u, v


def _paint(img, alpha, colour):
    img[:] = img * (1 - alpha[..., None]) + np.asarray(colour, np.float32) * alpha[..., None]


def _barn_objects(rng):
    img = generate._floor(rng)
    xs, ys = _grid()
    for _ in range(rng.integers(1, 5)):
        cx, cy = rng.uniform(40, WIDTH - 40), rng.uniform(40, HEIGHT - 40)
        kind = rng.integers(4)
        if kind == 0:  # bucket from above: rim, darker inside, handle
            r = rng.uniform(45, 90)
            body = _colour(rng) * 0.6 + 60
            _paint(img, _ellipse(xs, ys, cx + 6, cy + 6, r, r, 0)[0] * 0.4, (20, 20, 20))
            _paint(img, _ellipse(xs, ys, cx, cy, r, r, 0)[0], body)
            _paint(img, _ellipse(xs, ys, cx, cy, r * 0.85, r * 0.85, 0)[0], body * 0.55)
            hand = np.abs(np.hypot(xs - cx, ys - cy) - r * 0.95) < 2.5
            img[hand & (ys < cy)] = (40, 40, 40)
        elif kind == 1:  # feed bag: a pale rounded rectangle with a printed band
            a, b, ang = rng.uniform(90, 150), rng.uniform(55, 85), rng.uniform(0, np.pi)
            c, s = np.cos(ang), np.sin(ang)
            u, v = (xs - cx) * c + (ys - cy) * s, -(xs - cx) * s + (ys - cy) * c
            bag = np.clip((1 - (np.abs(u / a) ** 6 + np.abs(v / b) ** 6) ** (1 / 6)) * b + 0.5, 0, 1)
            paper = np.array([rng.uniform(200, 240), rng.uniform(190, 225), rng.uniform(150, 200)], np.float32)
            _paint(img, bag, paper)
            band = bag * (np.abs(u) < a * 0.25)
            _paint(img, band, _colour(rng))
        elif kind == 2:  # pallet: slats
            w, h = rng.uniform(120, 200), rng.uniform(100, 160)
            box = (np.abs(xs - cx) < w) & (np.abs(ys - cy) < h) & (((xs - cx + w) % (w / 3)) < w / 5)
            img[box] = np.array([170, 130, 85], np.float32) * rng.uniform(0.8, 1.1)
        else:  # hose: a thick curve
            px = cx + np.cumsum(np.cos(rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.08, 400)))) * 1.5
            py = cy + np.cumsum(np.sin(rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.08, 400)))) * 1.5
            colour = _colour(rng)
            for x, y in zip(px[:: 4], py[:: 4]):
                x0, x1, y0, y1 = generate._window(x, y, 8)
                sel = np.hypot(xs[y0:y1, x0:x1] - x, ys[y0:y1, x0:x1] - y) < 7
                img[y0:y1, x0:x1][sel] = colour
    return img


def _litter(rng):
    """Wood-shaving litter of a broiler house, or the station floor."""
    if rng.random() < 0.35:
        return generate._floor(rng)
    base = np.array([rng.uniform(170, 215), rng.uniform(140, 180), rng.uniform(90, 130)], np.float32)
    tex = generate._smooth_noise(rng, (120, 160)) * 18 + generate._smooth_noise(rng, (10, 14)) * 10
    return base + tex[..., None]


def _broiler(rng):
    img = _litter(rng)
    xs, ys = _grid()
    scale = rng.uniform(0.7, 2.2)  # how close the camera hangs: a 2 kg bird ~ 95 x 55 px at scale 1
    for _ in range(rng.integers(1, 7)):
        cx, cy, ang = rng.uniform(30, WIDTH - 30), rng.uniform(30, HEIGHT - 30), rng.uniform(0, 2 * np.pi)
        a, b = 48 * scale * rng.uniform(0.8, 1.15), 28 * scale * rng.uniform(0.85, 1.15)
        white = np.array([rng.uniform(225, 250), rng.uniform(222, 245), rng.uniform(205, 235)], np.float32)
        _paint(img, _ellipse(xs, ys, cx + 4, cy + 4, a, b, ang)[0] * 0.35, (30, 25, 20))
        body, u, v = _ellipse(xs, ys, cx, cy, a, b, ang)
        shade = 1 - 0.15 * np.clip(np.abs(v) / b, 0, 1)  # top light: the back brighter than the flanks
        img[:] = img * (1 - body[..., None]) + (white * shade[..., None]) * body[..., None]
        hx, hy = cx + np.cos(ang) * a * 0.95, cy + np.sin(ang) * a * 0.95
        _paint(img, _ellipse(xs, ys, hx, hy, b * 0.45, b * 0.4, ang)[0], white)
        _paint(img, _ellipse(xs, ys, hx, hy, b * 0.35, b * 0.1, ang)[0], (200, 30, 30))  # comb
        bx, by = hx + np.cos(ang) * b * 0.5, hy + np.sin(ang) * b * 0.5
        _paint(img, _ellipse(xs, ys, bx, by, b * 0.15, b * 0.08, ang)[0], (230, 180, 50))  # beak
    return img


def _cow(rng):
    img = generate._floor(rng)
    xs, ys = _grid()
    cx, cy, ang = rng.uniform(150, WIDTH - 150), rng.uniform(120, HEIGHT - 120), rng.uniform(0, 2 * np.pi)
    a, b = rng.uniform(220, 380), rng.uniform(100, 160)
    body, u, v = _ellipse(xs, ys, cx, cy, a, b, ang)
    patches = generate._smooth_noise(rng, (6, 8)) > rng.uniform(-0.3, 0.4)
    coat = np.where(patches[..., None], np.float32(25), np.float32(235))
    img[:] = img * (1 - body[..., None]) + coat * body[..., None]
    hx, hy = cx + np.cos(ang) * a * 1.05, cy + np.sin(ang) * a * 1.05
    _paint(img, _ellipse(xs, ys, hx, hy, b * 0.6, b * 0.38, ang)[0], (30, 28, 28))
    return img


def _sheep(rng):
    img = generate._floor(rng)
    xs, ys = _grid()
    cx, cy, ang = rng.uniform(160, WIDTH - 160), rng.uniform(130, HEIGHT - 130), rng.uniform(0, 2 * np.pi)
    a, b = rng.uniform(110, 170), rng.uniform(60, 95)
    wool = np.array([rng.uniform(200, 235), rng.uniform(195, 225), rng.uniform(170, 200)], np.float32)
    body, u, v = _ellipse(xs, ys, cx, cy, a, b, ang, soft=4.0)
    # lumpy fleece: small-scale brightness noise, fraying edge
    fleece = 1 + 0.12 * generate._smooth_noise(rng, (60, 80))
    edge = np.clip(body + 0.25 * generate._smooth_noise(rng, (60, 80)), 0, 1)
    img[:] = img * (1 - edge[..., None]) + (wool * fleece[..., None]) * edge[..., None]
    hx, hy = cx + np.cos(ang) * a * 1.0, cy + np.sin(ang) * a * 1.0
    _paint(img, _ellipse(xs, ys, hx, hy, b * 0.55, b * 0.35, ang)[0], (35, 30, 28))
    return img


RENDER = {"noise": _noise, "flat": _flat, "gradient": _gradient, "geometric": _geometric, "texture": _texture,
          "barn_objects": _barn_objects, "broiler": _broiler, "cow": _cow, "sheep": _sheep}


def render(kind: str, rng: np.random.Generator) -> Image.Image:
    img = RENDER[kind](rng).astype(np.float32)
    if kind not in ("flat", "noise"):  # the camera's lighting and sensor, as in generate.render_scene
        xs, ys = _grid()
        gain = rng.uniform(0.75, 1.2)
        vig = 1 - rng.uniform(0, 0.3) * (((xs - WIDTH / 2) / WIDTH) ** 2 + ((ys - HEIGHT / 2) / HEIGHT) ** 2) * 2
        img = img * (gain * vig)[..., None]
    img += rng.standard_normal(img.shape, dtype=np.float32) * rng.uniform(1.5, 6)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")


def sample(stream: str, kind: str, index: int) -> bytes:
    rng = np.random.default_rng([OOD_SEED[stream], KINDS.index(kind), index])
    return generate.encode(render(kind, rng), rng)


def dataset(stream: str, per_kind: int, size: int = 96, cache_dir: str | None = None) -> dict:
    """Model inputs uint8 [N,size,size,3] and the kind index of each, per_kind images of every kind."""
    path = os.path.join(cache_dir, f"ood-{stream}-{per_kind}-{size}.npz") if cache_dir else None
    if path and os.path.exists(path):
        return dict(np.load(path))
    xs, kinds = [], []
    for k, kind in enumerate(KINDS):
        for i in range(per_kind):
            xs.append(generate.to_input(sample(stream, kind, i), size))
            kinds.append(k)
    out = {"x": np.stack(xs), "kind": np.array(kinds, np.int8)}
    if path:
        os.makedirs(cache_dir, exist_ok=True)
        np.savez_compressed(path, **out)
    return out


FIXTURE_KINDS = ("noise", "flat", "geometric", "barn_objects", "broiler", "cow")


def write_fixtures(out_dir: str) -> None:
    os.makedirs(out_dir, exist_ok=True)
    rows = []
    for n, kind in enumerate(FIXTURE_KINDS):
        data = sample("fixtures", kind, 0)
        name = f"{n + 1:02d}-{kind.replace('_', '-')}.jpg"
        with open(os.path.join(out_dir, name), "wb") as fh:
            fh.write(data)
        rows.append({"file": name, "content_type": "image/jpeg", "size_bytes": len(data), "kind": kind,
                     "family": FAMILY[kind], "seed": [OOD_SEED["fixtures"], KINDS.index(kind), 0]})
    with open(os.path.join(out_dir, "manifest.json"), "w") as fh:
        json.dump({"generator": "ml/ood_images.py --fixtures", "images": rows}, fh, indent=2)
        fh.write("\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--fixtures", action="store_true", help="write the test fixture set")
    ap.add_argument("--stream", default="eval", choices=sorted(OOD_SEED))
    ap.add_argument("--count", type=int, default=3)
    ap.add_argument("--kind", choices=KINDS)
    args = ap.parse_args()
    if args.fixtures:
        write_fixtures(args.out)
        return
    os.makedirs(args.out, exist_ok=True)
    for kind in [args.kind] if args.kind else KINDS:
        for i in range(args.count):
            with open(os.path.join(args.out, f"{args.stream}-{kind}-{i:03d}.jpg"), "wb") as fh:
                fh.write(sample(args.stream, kind, i))


if __name__ == "__main__":
    main()
