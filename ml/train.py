"""
Train the WeighVision network on generated images and export models/weighvision-v1.onnx.

The network is deliberately small (four strided 3x3 convolutions, each also global-average-pooled
into the features — image-wide statistics such as how much animal and how sharp its edges are —
and two dense layers, ~0.14 M parameters) so one image costs well under a millisecond of CPU on the edge. It is trained with JAX
(CPU) and written out as a plain ONNX graph through onnx.helper, so the export has no dependency on
a deep-learning framework's exporter.

Model contract (the edge's VISION_* defaults in config/settings.ts):
  input   image      float32 [N,3,96,96] RGB scaled to 0..1 — per-channel mean/std normalisation
                     is baked into the graph, callers only divide bytes by 255
  output  weight_kg  float32 [N,1] — exp of the regressed log weight
  output  quality    float32 [N,4] — sigmoid probabilities of
                     not_fully_in_frame, multiple_animals, empty_frame, blurred

Training data: the `train` seed stream only; `heldout` is never read here (ml/evaluate.py uses it).
Run from the repo root:  ml/.venv/bin/python ml/train.py
then ml/ood.py, which adds the out-of-distribution output `ood_score` to the exported file (from
these same weights) and writes its manifest models/weighvision-v1.json; the edge refuses a model
whose manifest does not match it.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
CACHE = os.path.join(HERE, ".venv", "dataset-cache")
SIZE = 96
CHANNELS = (3, 16, 24, 32, 48)
HIDDEN = 64
# cases whose image holds exactly one whole animal: only these teach the weight head
WEIGHED_CASES = (generate.CASES.index("normal"), generate.CASES.index("blurred"))
# blur is the subtle flag (a smear of a few pixels at 96x96): its loss counts triple
FLAG_LOSS_WEIGHT = np.array([1.0, 1.0, 1.0, 3.0], np.float32)


def init_params(rng: np.random.Generator) -> dict:
    p = {}
    for i in range(4):
        cin, cout = CHANNELS[i], CHANNELS[i + 1]
        p[f"conv{i}_w"] = (rng.normal(0, np.sqrt(2 / (cin * 9)), (cout, cin, 3, 3))).astype(np.float32)
        p[f"conv{i}_b"] = np.zeros(cout, np.float32)
    flat = CHANNELS[-1] * (SIZE // 16) ** 2 + sum(CHANNELS[1:])
    p["fc0_w"] = rng.normal(0, np.sqrt(2 / flat), (flat, HIDDEN)).astype(np.float32)
    p["fc0_b"] = np.zeros(HIDDEN, np.float32)
    p["fc1_w"] = rng.normal(0, np.sqrt(1 / HIDDEN), (HIDDEN, 5)).astype(np.float32)
    p["fc1_b"] = np.zeros(5, np.float32)
    return p


def forward(params, x, jnp, lax):
    """x: [N,3,96,96] already normalised; returns [N,5] = (standardised log weight, 4 quality logits)."""
    h = x
    pooled = []
    for i in range(4):
        h = lax.conv_general_dilated(h, params[f"conv{i}_w"], (2, 2), ((1, 1), (1, 1)),
                                     dimension_numbers=("NCHW", "OIHW", "NCHW"))
        h = jnp.maximum(h + params[f"conv{i}_b"][None, :, None, None], 0)
        pooled.append(h.mean(axis=(2, 3)))
    h = jnp.concatenate([h.reshape(h.shape[0], -1)] + pooled, axis=1)
    h = jnp.maximum(h @ params["fc0_w"] + params["fc0_b"], 0)
    return h @ params["fc1_w"] + params["fc1_b"]


def to_nchw(x_uint8: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x_uint8.transpose(0, 3, 1, 2), dtype=np.float32) / 255.0


def train(data: dict, epochs: int, batch: int, seed: int, log) -> tuple[dict, dict]:
    import jax
    import jax.numpy as jnp
    from jax import lax

    x = to_nchw(data["x"])
    mean = x.mean(axis=(0, 2, 3)).astype(np.float32)
    std = x.std(axis=(0, 2, 3)).astype(np.float32)
    weighed = np.isin(data["case"], WEIGHED_CASES)
    logw = np.log(np.where(weighed, data["weight"], 1.0))
    lw_mean, lw_std = float(logw[weighed].mean()), float(logw[weighed].std())
    norm = {"mean": mean.tolist(), "std": std.tolist(), "log_weight_mean": lw_mean, "log_weight_std": lw_std}
    xn = (x - mean[None, :, None, None]) / std[None, :, None, None]
    target_w = ((logw - lw_mean) / lw_std).astype(np.float32)
    mask_w = weighed.astype(np.float32)
    flags = data["flags"].astype(np.float32)

    rng = np.random.default_rng(seed)
    params = {k: jnp.asarray(v) for k, v in init_params(rng).items()}
    steps_per_epoch = len(xn) // batch
    total = steps_per_epoch * epochs
    peak_lr, warm = 2e-3, 200
    b1, b2, eps = 0.9, 0.999, 1e-8
    m = {k: jnp.zeros_like(v) for k, v in params.items()}
    v = {k: jnp.zeros_like(v) for k, v in params.items()}

    def loss_fn(p, xb, tw, mw, fb):
        out = forward(p, xb, jnp, lax)
        err = out[:, 0] - tw
        huber = jnp.where(jnp.abs(err) < 0.5, 0.5 * err ** 2, 0.5 * (jnp.abs(err) - 0.25))
        lw = jnp.sum(huber * mw) / jnp.maximum(jnp.sum(mw), 1.0)
        logits = out[:, 1:]
        per_flag = jnp.maximum(logits, 0) - logits * fb + jnp.log1p(jnp.exp(-jnp.abs(logits)))
        bce = jnp.mean(per_flag * FLAG_LOSS_WEIGHT)
        return 4.0 * lw + bce, (lw, bce)

    @jax.jit
    def step(p, m, v, t, xb, tw, mw, fb):
        (loss, parts), g = jax.value_and_grad(loss_fn, has_aux=True)(p, xb, tw, mw, fb)
        lr = peak_lr * jnp.minimum(1.0, t / warm) * 0.5 * (1 + jnp.cos(jnp.pi * jnp.minimum(t / total, 1.0)))
        m = {k: b1 * m[k] + (1 - b1) * g[k] for k in p}
        v = {k: b2 * v[k] + (1 - b2) * g[k] ** 2 for k in p}
        p = {k: p[k] - lr * (m[k] / (1 - b1 ** t)) / (jnp.sqrt(v[k] / (1 - b2 ** t)) + eps) - lr * 1e-4 * p[k]
             for k in p}
        return p, m, v, loss, parts

    t = 0
    started = time.time()
    for epoch in range(epochs):
        order = rng.permutation(len(xn))
        sums = np.zeros(3)
        for s in range(steps_per_epoch):
            idx = order[s * batch:(s + 1) * batch]
            xb = xn[idx]
            # flips are label-preserving for a top view (the frame is squashed, so no 90° turns)
            if rng.random() < 0.5:
                xb = xb[:, :, :, ::-1]
            if rng.random() < 0.5:
                xb = xb[:, :, ::-1, :]
            t += 1
            params, m, v, loss, (lw, bce) = step(params, m, v, float(t), jnp.asarray(np.ascontiguousarray(xb)),
                                                  target_w[idx], mask_w[idx], flags[idx])
            sums += [float(loss), float(lw), float(bce)]
        sums /= steps_per_epoch
        log(f"epoch {epoch + 1}/{epochs} loss {sums[0]:.4f} weight {sums[1]:.4f} quality {sums[2]:.4f} "
            f"({time.time() - started:.0f}s)")
    return {k: np.asarray(val) for k, val in params.items()}, norm


def export_onnx(params: dict, norm: dict, path: str, model_id: str) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    inits = []

    def const(name, arr):
        inits.append(numpy_helper.from_array(np.asarray(arr, np.float32), name))
        return name

    mean = np.array(norm["mean"], np.float32).reshape(1, 3, 1, 1)
    inv_std = (1.0 / np.array(norm["std"], np.float32)).reshape(1, 3, 1, 1)
    nodes = [
        helper.make_node("Sub", ["image", const("norm_mean", mean)], ["centred"], name="normalise_mean"),
        helper.make_node("Mul", ["centred", const("norm_inv_std", inv_std)], ["h0"], name="normalise_std"),
    ]
    h = "h0"
    for i in range(4):
        out = f"conv{i}"
        nodes.append(helper.make_node("Conv", [h, const(f"conv{i}_w", params[f"conv{i}_w"]),
                                               const(f"conv{i}_b", params[f"conv{i}_b"])], [out],
                                      name=out, kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]))
        nodes.append(helper.make_node("Relu", [out], [f"relu{i}"], name=f"relu{i}"))
        nodes.append(helper.make_node("GlobalAveragePool", [f"relu{i}"], [f"gap{i}"], name=f"gap{i}"))
        nodes.append(helper.make_node("Flatten", [f"gap{i}"], [f"pooled{i}"], name=f"pooled{i}", axis=1))
        h = f"relu{i}"
    nodes += [
        helper.make_node("Flatten", [h], ["flat_map"], name="flatten", axis=1),
        helper.make_node("Concat", ["flat_map", "pooled0", "pooled1", "pooled2", "pooled3"], ["flat"], name="features", axis=1),
        helper.make_node("Gemm", ["flat", const("fc0_w", params["fc0_w"]), const("fc0_b", params["fc0_b"])],
                         ["fc0"], name="fc0"),
        helper.make_node("Relu", ["fc0"], ["hidden"], name="relu_fc0"),
        helper.make_node("Gemm", ["hidden", const("fc1_w", params["fc1_w"]), const("fc1_b", params["fc1_b"])],
                         ["heads"], name="fc1"),
        helper.make_node("Split", ["heads", "split_sizes"], ["log_weight_std", "quality_logits"], name="split", axis=1),
        helper.make_node("Mul", ["log_weight_std", const("lw_std", [norm["log_weight_std"]])], ["lw_scaled"], name="lw_scale"),
        helper.make_node("Add", ["lw_scaled", const("lw_mean", [norm["log_weight_mean"]])], ["log_weight"], name="lw_shift"),
        helper.make_node("Exp", ["log_weight"], ["weight_kg"], name="weight_kg"),
        helper.make_node("Sigmoid", ["quality_logits"], ["quality"], name="quality"),
    ]
    inits.append(numpy_helper.from_array(np.array([1, 4], np.int64), "split_sizes"))
    graph = helper.make_graph(
        nodes, "weighvision_v1",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("weight_kg", TensorProto.FLOAT, ["N", 1]),
         helper.make_tensor_value_info("quality", TensorProto.FLOAT, ["N", 4])],
        inits,
    )
    model = helper.make_model(graph, producer_name="farmiq-ml", producer_version="1",
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    model.doc_string = ("WeighVision v1: pig weight (kg) and image quality from a top-view station image. "
                        "image = RGB/255, NCHW 96x96; normalisation is inside the graph. "
                        "quality columns: " + ",".join(generate.QUALITY_LABELS))
    for key, value in (("model_id", model_id), ("quality_labels", ",".join(generate.QUALITY_LABELS)),
                       ("normalisation", json.dumps({"mean": norm["mean"], "std": norm["std"]}))):
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    onnx.save(model, path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train-count", type=int, default=10000)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default=os.path.join(REPO, "models", "weighvision-v1.onnx"))
    ap.add_argument("--model-id", default="farmiq-weighvision-v1")
    args = ap.parse_args()
    log = lambda msg: print(msg, flush=True)  # noqa: E731
    data = generate.dataset("train", args.train_count, SIZE, cache_dir=CACHE)
    log(f"train split: {len(data['x'])} images, cases {np.bincount(data['case'], minlength=5).tolist()}")
    params, norm = train(data, args.epochs, args.batch, args.seed, log)
    export_onnx(params, norm, args.out, args.model_id)
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "training.json"), "w") as fh:
        json.dump({"train_count": args.train_count, "epochs": args.epochs, "batch": args.batch, "seed": args.seed,
                   "normalisation": norm, "model_bytes": os.path.getsize(args.out)}, fh, indent=2)
        fh.write("\n")
    log(f"wrote {args.out} ({os.path.getsize(args.out)} bytes)")


if __name__ == "__main__":
    main()
