"""
Held-out accuracy of the shipped network (models/weighvision-v1.onnx, run by onnxruntime) and of the
classical baseline (ml/baseline.py, fitted on the train split), written to ml/results/evaluation.json.

The held-out split is its own seed stream (generate.SPLIT_SEED["heldout"]) that train.py never reads.
Weight metrics are over images holding one whole animal: `normal` (the figure that matters) and
`blurred` separately. Flag metrics are over every held-out image at threshold 0.5.

`out_of_distribution`: the model's OOD check (ml/ood.py) on ml/ood_images.py's `eval` stream of
non-animal and wrong-species images — the share flagged out_of_distribution, and the share the edge
would not use as a weight (flagged, or confidence below the session's 0.5 cut-off) — by kind and
family; the share of held-out in-distribution images it flags, by case; and, for each kind, the
share flagged when the outlier head is refitted WITHOUT that kind (how it meets a kind it never saw).

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
import ood  # noqa: E402
import ood_images  # noqa: E402

# weighvision/session-result.ts: below this confidence a vision estimate makes no session weight.
CONFIDENCE_CUTOFF = 0.5
OOD_EVAL_PER_KIND = 100


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
    w, q, _ = run_network_ood(model_path, x_uint8)
    return w, q


def run_network_ood(model_path: str, x_uint8: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """weight_kg, quality and (when the model has it) ood_score per image."""
    import onnxruntime as ort
    sess = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    names = ["weight_kg", "quality"] + ([ood.OUTPUT] if ood.OUTPUT in [o.name for o in sess.get_outputs()] else [])
    weights, quality, scores = [], [], []
    for s in range(0, len(x_uint8), 256):
        out = sess.run(names, {"image": to_nchw(x_uint8[s:s + 256])})
        weights.append(out[0][:, 0])
        quality.append(out[1])
        if len(out) > 2:
            scores.append(out[2][:, 0])
    return np.concatenate(weights), np.concatenate(quality), (np.concatenate(scores) if scores else None)


def confidence(quality: np.ndarray, score: np.ndarray, threshold: float) -> np.ndarray:
    """As weighvision/vision/vision-model.ts: Π(1 − p) × σ(threshold − ood_score)."""
    return np.prod(1 - np.clip(quality, 0, 1), axis=1) / (1 + np.exp(np.clip(score - threshold, -50, 50)))


def ood_report(model_path: str, held: dict, train_count: int) -> dict:
    with open(os.path.splitext(model_path)[0] + ".json") as fh:
        manifest = json.load(fh)
    threshold = manifest["out_of_distribution"]["threshold"]
    _, held_q, held_s = run_network_ood(model_path, held["x"])
    if held_s is None:
        raise SystemExit(f"{model_path} has no {ood.OUTPUT} output: run ml/ood.py first")
    outside = ood_images.dataset("eval", OOD_EVAL_PER_KIND, SIZE, cache_dir=CACHE)
    w, q, s = run_network_ood(model_path, outside["x"])
    flagged = s >= threshold
    conf = confidence(q, s, threshold)
    unusable = flagged | (conf < CONFIDENCE_CUTOFF)
    unseen = unseen_kind_shares(model_path, outside, train_count)

    def summary(sel: np.ndarray) -> dict:
        return {"images": int(sel.sum()), "flagged_share": round(float(unusable[sel].mean()), 4),
                "ood_flag_share": round(float(flagged[sel].mean()), 4),
                "confidence_median": round(float(np.median(conf[sel])), 4),
                "estimated_weight_kg_median": round(float(np.median(w[sel])), 1)}

    kinds = outside["kind"]
    by_kind = {k: {"family": ood_images.FAMILY[k], **summary(kinds == i), "ood_flag_share_kind_unseen": unseen[k]}
               for i, k in enumerate(ood_images.KINDS)}
    families = sorted(set(ood_images.FAMILY.values()))
    fam_of = np.array([ood_images.FAMILY[ood_images.KINDS[k]] for k in kinds])
    in_flag = held_s >= threshold
    cases = held["case"]
    return {
        "method": manifest["out_of_distribution"]["method"],
        "output": manifest["out_of_distribution"]["output"],
        "threshold": threshold,
        "threshold_calibration": manifest["out_of_distribution"]["calibration"],
        "confidence_cutoff": CONFIDENCE_CUTOFF,
        "set": {"generator": "ml/ood_images.py", "stream": "eval", "seed_stream": ood_images.OOD_SEED["eval"],
                "per_kind": OOD_EVAL_PER_KIND},
        **summary(np.ones(len(kinds), bool)),
        "by_family": {f: summary(fam_of == f) for f in families},
        "by_kind": by_kind,
        "in_distribution": {
            "split": "heldout", "images": int(len(held_s)),
            "ood_flagged_share": round(float(in_flag.mean()), 4),
            # the images whose weight could count (one whole animal): what a false flag costs
            "ood_flagged_share_weighable": round(float(in_flag[np.isin(cases, [0, 4])].mean()), 4),
            "ood_flagged_share_by_case": {c: round(float(in_flag[cases == i].mean()), 4) for i, c in enumerate(generate.CASES)},
            "normal_below_confidence_cutoff_share": round(float(
                (confidence(held_q, held_s, threshold)[cases == 0] < CONFIDENCE_CUTOFF).mean()), 4),
        },
    }


def unseen_kind_shares(model_path: str, outside: dict, train_count: int) -> dict:
    """Per kind: refit the outlier head without that kind's training images, recalibrate, measure on the kind."""
    import onnx
    sess = ood.feature_session(onnx.load(model_path))
    f_train = ood.features(sess, generate.dataset("train", train_count, SIZE, cache_dir=CACHE)["x"])
    outliers = ood_images.dataset("train", ood.OOD_TRAIN_PER_KIND, SIZE, cache_dir=CACHE)
    f_out = ood.features(sess, outliers["x"])
    f_cal = ood.features(sess, generate.dataset("ood_calibration", 1000, SIZE, cache_dir=CACHE)["x"])
    f_eval = ood.features(sess, outside["x"])
    dist = ood.fit_distance(f_train)
    h_train, h_out, h_cal, h_eval = (ood.head_inputs(dist, f) for f in (f_train, f_out, f_cal, f_eval))
    shares = {}
    for i, kind in enumerate(ood_images.KINDS):
        w, b = ood.fit_head(h_train, h_out[outliers["kind"] != i])
        threshold = np.quantile(h_cal @ w + b, ood.CALIBRATION_QUANTILE)
        shares[kind] = round(float(np.mean(h_eval[outside["kind"] == i] @ w + b >= threshold)), 4)
    return shares


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
        "out_of_distribution": ood_report(args.model, held, args.train_count),
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
    o = results["out_of_distribution"]
    print(f"out of distribution: {o['images']} images, flagged or below cut-off {o['flagged_share']:.1%}, "
          f"ood flag {o['ood_flag_share']:.1%}; in-distribution flagged {o['in_distribution']['ood_flagged_share']:.2%}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
