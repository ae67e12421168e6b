"""
The out-of-distribution check of the WeighVision model, added to models/weighvision-v1.onnx as a
third output `ood_score` computed from the SAME trained weights: the weight and quality heads, and
every in-distribution figure of ml/results/evaluation.json, are untouched (this script only adds
nodes after the network's feature maps; ml/evaluate.py re-measures to show it).

What the score is, per image (all of it inside the ONNX graph):

  1. features  — for the normalised input and each of the four ReLU feature maps, the per-channel
                 mean, standard deviation and maximum over the image (3+16+24+32+48 = 123 channels,
                 369 numbers): how much of what the network looks for is where, and how strongly;
  2. z         — the features standardised with the training split's mean and spread;
  3. d²        — the squared Mahalanobis distance of z from the training split (covariance with
                 1 % shrinkage toward the identity), fitted on the 10 000 training images alone:
                 the unsupervised part, which knows nothing of any outlier;
  4. ood_score — a logistic outlier head on [z, log(1 + d²)] (outlier exposure, Hendrycks et al.
                 2019): trained to tell the training images from ml/ood_images.py's `train`
                 stream of non-animal and wrong-species images. It is a logit: higher = less like
                 the training images.

The threshold is the 99th percentile of ood_score over the `ood_calibration` split (1 000
in-distribution images of every case — normal, cut off, crowded, empty and blurred frames alike,
since those are things the model was trained on and flags by itself), so about 1 % of in-distribution
images are flagged; ml/evaluate.py measures the share on the 2 000 held-out images, by case.

It writes the model and its sidecar manifest models/weighvision-v1.json (model id, sha256 and size
of the ONNX file, species served, the OOD output and threshold) that the edge checks at load.

Run from the repo root, after ml/train.py:  ml/.venv/bin/python ml/ood.py
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate  # noqa: E402
import ood_images  # noqa: E402
from train import CACHE, HERE, REPO, SIZE, to_nchw  # noqa: E402

LAYERS = ("h0", "relu0", "relu1", "relu2", "relu3")
OUTPUT = "ood_score"
SHRINKAGE = 0.01
L2 = 1e-3
CALIBRATION_QUANTILE = 0.99
OOD_TRAIN_PER_KIND = 200
SPECIES = ["swine"]  # the flocks' words (domain/contracts/flock-payloads.ts flockSpecies)


def strip_ood(model):
    """The trained network as train.py exported it: drop any ood_* nodes, initializers and outputs."""
    keep = [n for n in model.graph.node if not n.name.startswith("ood_")]
    del model.graph.node[:]
    model.graph.node.extend(keep)
    inits = [i for i in model.graph.initializer if not i.name.startswith("ood_")]
    del model.graph.initializer[:]
    model.graph.initializer.extend(inits)
    outs = [o for o in model.graph.output if o.name in ("weight_kg", "quality")]
    del model.graph.output[:]
    model.graph.output.extend(outs)
    return model


def add_features(model):
    """Append the nodes computing `ood_features` [N,369] from the feature maps; returns the model."""
    from onnx import helper
    nodes, parts = [], []
    for layer in LAYERS:
        p = f"ood_{layer}"
        nodes += [
            helper.make_node("GlobalAveragePool", [layer], [f"{p}_mean4"], name=f"{p}_mean"),
            helper.make_node("Mul", [layer, layer], [f"{p}_sq"], name=f"{p}_sq"),
            helper.make_node("GlobalAveragePool", [f"{p}_sq"], [f"{p}_msq4"], name=f"{p}_msq"),
            helper.make_node("Mul", [f"{p}_mean4", f"{p}_mean4"], [f"{p}_mean_sq"], name=f"{p}_mean_sq"),
            helper.make_node("Sub", [f"{p}_msq4", f"{p}_mean_sq"], [f"{p}_var_raw"], name=f"{p}_var_raw"),
            helper.make_node("Relu", [f"{p}_var_raw"], [f"{p}_var"], name=f"{p}_var"),  # rounding can dip below 0
            helper.make_node("Sqrt", [f"{p}_var"], [f"{p}_std4"], name=f"{p}_std"),
            helper.make_node("GlobalMaxPool", [layer], [f"{p}_max4"], name=f"{p}_max"),
        ]
        for stat in ("mean", "std", "max"):
            nodes.append(helper.make_node("Flatten", [f"{p}_{stat}4"], [f"{p}_{stat}_flat"], name=f"{p}_{stat}_flat", axis=1))
            parts.append(f"{p}_{stat}_flat")
    nodes.append(helper.make_node("Concat", parts, ["ood_features"], name="ood_features", axis=1))
    model.graph.node.extend(nodes)
    return model


def feature_session(model):
    import onnxruntime as ort
    from onnx import TensorProto, helper
    m = add_features(strip_ood(_copy(model)))
    m.graph.output.append(helper.make_tensor_value_info("ood_features", TensorProto.FLOAT, ["N", 369]))
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    return ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])


def _copy(model):
    import onnx
    m = onnx.ModelProto()
    m.CopyFrom(model)
    return m


def features(sess, x_uint8: np.ndarray) -> np.ndarray:
    out = [sess.run(["ood_features"], {"image": to_nchw(x_uint8[s:s + 250])})[0] for s in range(0, len(x_uint8), 250)]
    return np.concatenate(out).astype(np.float64)


def fit_distance(f_train: np.ndarray) -> dict:
    """Standardisation and the Mahalanobis whitening matrix W (d² = |(z − m) W|²) of the training features."""
    # A channel (nearly) dead on every training image keeps a floor spread: one that lights up is
    # then a large, finite sign of an unfamiliar image rather than a division by zero.
    std = f_train.std(0)
    mean, spread = f_train.mean(0), np.maximum(std, 0.05 * np.median(std))
    z = (f_train - mean) / spread
    centre = z.mean(0)
    cov = np.cov(z - centre, rowvar=False, bias=True)
    cov = (1 - SHRINKAGE) * cov + SHRINKAGE * np.eye(len(cov))  # z is standardised: shrink toward I
    whiten = np.linalg.cholesky(np.linalg.inv(cov))  # P = W Wᵀ
    return {"mean": mean, "spread": spread, "centre": centre, "whiten": whiten}


def head_inputs(dist: dict, f: np.ndarray) -> np.ndarray:
    z = (f - dist["mean"]) / dist["spread"]
    d2 = np.sum(((z - dist["centre"]) @ dist["whiten"]) ** 2, axis=1, keepdims=True)
    return np.concatenate([z, np.log1p(d2)], axis=1)


def fit_head(inside: np.ndarray, outside: np.ndarray) -> tuple[np.ndarray, float]:
    """Class-balanced L2 logistic regression (L-BFGS): outside → 1."""
    from scipy.optimize import minimize
    a = np.concatenate([inside, outside])
    y = np.r_[np.zeros(len(inside)), np.ones(len(outside))]
    weight = np.r_[np.full(len(inside), 0.5 / len(inside)), np.full(len(outside), 0.5 / len(outside))]

    def loss(theta):
        w, b = theta[:-1], theta[-1]
        z = a @ w + b
        nll = np.sum(weight * (np.logaddexp(0, z) - y * z)) + 0.5 * L2 * w @ w
        g = weight * (1 / (1 + np.exp(-z)) - y)
        return nll, np.r_[a.T @ g + L2 * w, g.sum()]

    res = minimize(loss, np.zeros(a.shape[1] + 1), jac=True, method="L-BFGS-B", options={"maxiter": 2000})
    return res.x[:-1], float(res.x[-1])


def add_score(model, dist: dict, w: np.ndarray, b: float):
    """Append standardisation, distance and head nodes, and the `ood_score` output [N,1]."""
    from onnx import TensorProto, helper, numpy_helper

    def const(name, arr):
        model.graph.initializer.append(numpy_helper.from_array(np.asarray(arr, np.float32), name))
        return name

    nodes = [
        helper.make_node("Sub", ["ood_features", const("ood_feature_mean", dist["mean"][None])], ["ood_centred"], name="ood_centred"),
        helper.make_node("Div", ["ood_centred", const("ood_feature_spread", dist["spread"][None])], ["ood_z"], name="ood_z"),
        helper.make_node("Sub", ["ood_z", const("ood_centre", dist["centre"][None])], ["ood_zc"], name="ood_zc"),
        helper.make_node("MatMul", ["ood_zc", const("ood_whiten", dist["whiten"])], ["ood_white"], name="ood_white"),
        helper.make_node("ReduceSumSquare", ["ood_white"], ["ood_d2"], name="ood_d2", axes=[1], keepdims=1),
        helper.make_node("Add", ["ood_d2", const("ood_one", [1.0])], ["ood_d2p1"], name="ood_d2p1"),
        helper.make_node("Log", ["ood_d2p1"], ["ood_log_d2"], name="ood_log_d2"),
        helper.make_node("Concat", ["ood_z", "ood_log_d2"], ["ood_head_in"], name="ood_head_in", axis=1),
        helper.make_node("Gemm", ["ood_head_in", const("ood_head_w", w[:, None]), const("ood_head_b", [b])], [OUTPUT], name="ood_head"),
    ]
    model.graph.node.extend(nodes)
    model.graph.output.append(helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["N", 1]))
    return model


def sha256(path: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def main() -> None:
    import onnx
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(REPO, "models", "weighvision-v1.onnx"))
    ap.add_argument("--train-count", type=int, default=10000)
    ap.add_argument("--calibration-count", type=int, default=1000)
    args = ap.parse_args()
    log = lambda msg: print(msg, flush=True)  # noqa: E731

    trained = strip_ood(onnx.load(args.model))
    sess = feature_session(trained)
    f_train = features(sess, generate.dataset("train", args.train_count, SIZE, cache_dir=CACHE)["x"])
    f_outside = features(sess, ood_images.dataset("train", OOD_TRAIN_PER_KIND, SIZE, cache_dir=CACHE)["x"])
    calibration = generate.dataset("ood_calibration", args.calibration_count, SIZE, cache_dir=CACHE)
    f_cal = features(sess, calibration["x"])
    log(f"features: train {f_train.shape}, outliers {f_outside.shape}, calibration {f_cal.shape}")

    dist = fit_distance(f_train)
    w, b = fit_head(head_inputs(dist, f_train), head_inputs(dist, f_outside))
    cal_score = head_inputs(dist, f_cal) @ w + b
    threshold = float(np.quantile(cal_score, CALIBRATION_QUANTILE))
    log(f"threshold {threshold:.4f} (p{CALIBRATION_QUANTILE * 100:.0f} of {len(cal_score)} calibration images)")

    model = add_score(add_features(trained), dist, w, b)
    for entry in list(model.metadata_props):
        if entry.key in ("species", "ood_output"):
            model.metadata_props.remove(entry)
    for key, value in (("species", ",".join(SPECIES)), ("ood_output", OUTPUT)):
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, args.model)

    model_id = next(p.value for p in model.metadata_props if p.key == "model_id")
    manifest_path = os.path.splitext(args.model)[0] + ".json"
    manifest = {
        "model_id": model_id,
        "file": os.path.basename(args.model),
        "sha256": sha256(args.model),
        "bytes": os.path.getsize(args.model),
        "species": SPECIES,
        "out_of_distribution": {
            "output": OUTPUT,
            "threshold": round(threshold, 4),
            "method": "logistic outlier head on standardised feature-map statistics and their Mahalanobis distance "
                      "from the training split (ml/ood.py)",
            "calibration": {"split": "ood_calibration", "seed_stream": generate.SPLIT_SEED["ood_calibration"],
                            "images": int(len(cal_score)), "quantile": CALIBRATION_QUANTILE},
        },
        "generator": "ml/ood.py",
    }
    with open(manifest_path, "w") as fh:
        json.dump(manifest, fh, indent=2)
        fh.write("\n")
    with open(os.path.join(HERE, "results", "ood_fit.json"), "w") as fh:
        json.dump({"train_images": int(len(f_train)), "outlier_images": int(len(f_outside)),
                   "outlier_per_kind": OOD_TRAIN_PER_KIND, "shrinkage": SHRINKAGE, "l2": L2,
                   "threshold": threshold, "calibration_quantile": CALIBRATION_QUANTILE}, fh, indent=2)
        fh.write("\n")
    log(f"wrote {args.model} ({manifest['bytes']} bytes) and {manifest_path}")


if __name__ == "__main__":
    main()
