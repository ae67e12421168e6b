"""
Held-out accuracy of the shipped network (models/weighvision-v1.onnx, run by onnxruntime) and of the
classical baseline (ml/baseline.py, fitted on the train split), written to ml/results/evaluation.json.

The held-out split is its own seed stream (generate.SPLIT_SEED["heldout"]) that train.py never reads.
Weight metrics are over images holding one whole animal: `normal` (the figure that matters) and
`blurred` separately. Flag metrics are over every held-out image at threshold 0.5.

Run from the repo root:  ml/.venv/bin/python ml/evaluate.py
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate  # noqa: E402
from baseline import Baseline  # noqa: E402
from train import CACHE, REPO, HERE, SIZE, to_nchw  # noqa: E402


def weight_metrics(pred: np.ndarray, true: np.ndarray) -> dict:
    err = pred - true
    ape = np.abs(err) / true * 100
    return {
        "images": int(len(true)),
        "mae_kg": round(float(np.mean(np.abs(err))), 2),
        "mape_pct": round(float(np.mean(ape)), 2),
        "bias_kg": round(float(np.mean(err)), 2),
        "within_10pct_share": round(float(np.mean(ape <= 10)), 4),
        "ape_p95_pct": round(float(np.percentile(ape, 95)), 2),
        "ape_p99_pct": round(float(np.percentile(ape, 99)), 2),
        "ape_max_pct": round(float(np.max(ape)), 2),
    }


def by_weight_band(pred: np.ndarray, true: np.ndarray) -> dict:
    bands = {}
    for lo, hi in ((20, 50), (50, 90), (90, 130)):
        sel = (true >= lo) & (true < hi)
        if sel.any():
            bands[f"{lo}-{hi}kg"] = {k: v for k, v in weight_metrics(pred[sel], true[sel]).items()
                                     if k in ("images", "mae_kg", "mape_pct")}
    return bands


def flag_metrics(pred: np.ndarray, true: np.ndarray) -> dict:
    out = {}
    for j, name in enumerate(generate.QUALITY_LABELS):
        p, t = pred[:, j], true[:, j] > 0.5
        tp = int(np.sum(p & t))
        out[name] = {
            "positives": int(t.sum()),
            "precision": round(tp / max(1, int(p.sum())), 4),
            "recall": round(tp / max(1, int(t.sum())), 4),
        }
    return out


def run_network(model_path: str, x_uint8: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import onnxruntime as ort
    sess = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    weights, quality = [], []
    for s in range(0, len(x_uint8), 256):
        w, q = sess.run(["weight_kg", "quality"], {"image": to_nchw(x_uint8[s:s + 256])})
        weights.append(w[:, 0])
        quality.append(q)
    return np.concatenate(weights), np.concatenate(quality)


def report(name: str, weight: np.ndarray, flags: np.ndarray, held: dict) -> dict:
    cases = held["case"]
    normal = cases == generate.CASES.index("normal")
    blurred = cases == generate.CASES.index("blurred")
    return {
        "weight_normal": weight_metrics(weight[normal], held["weight"][normal]),
        "weight_normal_by_band": by_weight_band(weight[normal], held["weight"][normal]),
        "weight_blurred": weight_metrics(weight[blurred], held["weight"][blurred]),
        "flags": flag_metrics(flags, held["flags"]),
        "normal_images_with_any_flag_share": round(float(np.mean(flags[normal].any(axis=1))), 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--heldout-count", type=int, default=2000)
    ap.add_argument("--train-count", type=int, default=10000)
    ap.add_argument("--model", default=os.path.join(REPO, "models", "weighvision-v1.onnx"))
    args = ap.parse_args()

    held = generate.dataset("heldout", args.heldout_count, SIZE, cache_dir=CACHE)
    train = generate.dataset("train", args.train_count, SIZE, cache_dir=CACHE)

    base = Baseline().fit(train["area"], train["weight"], train["flags"], train["case"] == generate.CASES.index("normal"))
    net_w, net_q = run_network(args.model, held["x"])
    results = {
        "heldout": {"split": "heldout", "seed_stream": generate.SPLIT_SEED["heldout"], "images": int(len(held["x"])),
                    "cases": dict(zip(generate.CASES, np.bincount(held["case"], minlength=5).tolist()))},
        "flag_threshold": 0.5,
        "network": {"model": os.path.relpath(args.model, REPO), "model_bytes": os.path.getsize(args.model),
                    **report("network", net_w, net_q >= 0.5, held)},
        "baseline": {"method": "Otsu threshold segmentation + W = a*A^b fitted on train normals", **base.to_dict(),
                     **report("baseline", base.predict_weight(held["area"]), base.predict_flags(held["area"]), held)},
        "note": "generated images only; not a measure of accuracy on real animals",
    }
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    path = os.path.join(HERE, "results", "evaluation.json")
    with open(path, "w") as fh:
        json.dump(results, fh, indent=2)
        fh.write("\n")
    for who in ("network", "baseline"):
        w = results[who]["weight_normal"]
        print(f"{who:9s} MAE {w['mae_kg']} kg  MAPE {w['mape_pct']} %  within ±10 % {w['within_10pct_share']:.1%}  "
              + "  ".join(f"{k} P{v['precision']:.2f}/R{v['recall']:.2f}" for k, v in results[who]["flags"].items()))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
