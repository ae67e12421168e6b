"""
Classical baseline the network has to beat: threshold segmentation + allometric fit.

  1. decode at 160x120, estimate the (uneven) floor locally by a masked Gaussian, threshold each
     pixel's colour distance from it (Otsu), fill holes, keep connected components;
  2. projected area A of the largest component (in full-frame pixels);
  3. weight W = a * A^b, a and b fitted by least squares in log space on the training split's
     normal images.

Quality flags come from the same segmentation: empty (largest component tiny), multiple animals
(a second large component), not fully in frame (the animal touches the border), blurred (weak edges
across the animal's outline). The thresholds are fitted on the training split too.
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image
from scipy import ndimage

FEATURES = ("area", "second_area", "border_share", "edge_sharpness")


def _otsu(values: np.ndarray) -> float:
    hist, edges = np.histogram(values, bins=128)
    centers = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * centers)
    mu0 = m0 / np.maximum(w0, 1)
    mu1 = (m0[-1] - m0) / np.maximum(w1, 1)
    between = w0 * w1 * (mu0 - mu1) ** 2
    return float(centers[int(np.argmax(between))])


def segment_area(data: bytes) -> np.ndarray:
    """Segmentation features of one encoded frame (see FEATURES); areas in 640x480 pixels."""
    img = Image.open(io.BytesIO(data))
    img.draft("RGB", (160, 120))
    rgb = np.asarray(img.convert("RGB").resize((160, 120), Image.BILINEAR), dtype=np.float32)
    rgb = ndimage.uniform_filter(rgb, size=(3, 3, 1))
    # The floor is uneven (texture, vignette, light gradient): estimate it locally, excluding what
    # the previous pass called animal, and threshold the colour distance from it (Otsu, floor 18).
    keep = np.ones(rgb.shape[:2], np.float32)
    for _ in range(3):
        floor = ndimage.gaussian_filter(rgb * keep[..., None], (12, 12, 0)) / np.maximum(
            ndimage.gaussian_filter(keep, 12), 1e-3)[..., None]
        distance = np.sqrt(((rgb - floor) ** 2).sum(-1))
        mask = distance > max(_otsu(distance), 18.0)
        mask = ndimage.binary_fill_holes(ndimage.binary_opening(mask, iterations=1))
        keep = (~ndimage.binary_dilation(mask, iterations=2)).astype(np.float32)
    labels, n = ndimage.label(mask)
    scale = (640 / 160) * (480 / 120)
    if n == 0:
        return np.array([0.0, 0.0, 0.0, 0.0], np.float32)
    sizes = np.bincount(labels.ravel())[1:]
    order = np.argsort(sizes)[::-1]
    big = labels == order[0] + 1
    border = np.concatenate([big[0], big[-1], big[:, 0], big[:, -1]])
    edge = ndimage.binary_dilation(big, iterations=1) & ~ndimage.binary_erosion(big, iterations=1)
    gray = rgb.mean(axis=2)
    grad = np.hypot(ndimage.sobel(gray, 0), ndimage.sobel(gray, 1))
    contrast = abs(gray[big].mean() - gray[~big].mean()) + 1.0
    sharp = float(grad[edge].mean() / contrast) if edge.any() else 0.0
    second = float(sizes[order[1]]) if n > 1 else 0.0
    return np.array([sizes[order[0]] * scale, second * scale, border.mean() * 100, sharp], np.float32)


class Baseline:
    """W = a·A^b plus threshold rules for the four quality flags."""

    def __init__(self) -> None:
        self.a = self.b = 0.0
        self.thresholds: dict[str, float] = {}

    def fit(self, feats: np.ndarray, weight: np.ndarray, flags: np.ndarray, normal: np.ndarray) -> "Baseline":
        ok = normal & (feats[:, 0] > 0)
        slope, intercept = np.polyfit(np.log(feats[ok, 0]), np.log(weight[ok]), 1)
        self.b, self.a = float(slope), float(np.exp(intercept))
        # one threshold per flag, the best-F1 cut of its feature on the training split
        rules = {"empty_frame": (0, "below"), "multiple_animals": (1, "above"),
                 "not_fully_in_frame": (2, "above"), "blurred": (3, "below")}
        labels = ("not_fully_in_frame", "multiple_animals", "empty_frame", "blurred")
        for j, name in enumerate(labels):
            col, direction = rules[name]
            x, y = feats[:, col], flags[:, j] > 0.5
            best = (-1.0, 0.0)
            for t in np.quantile(x, np.linspace(0.01, 0.99, 197)):
                pred = x < t if direction == "below" else x > t
                tp = np.sum(pred & y)
                f1 = 2 * tp / max(1, pred.sum() + y.sum())
                if f1 > best[0]:
                    best = (f1, float(t))
            self.thresholds[name] = best[1]
        self.rules = rules
        self.labels = labels
        return self

    def predict_weight(self, feats: np.ndarray) -> np.ndarray:
        return self.a * np.maximum(feats[:, 0], 1.0) ** self.b

    def predict_flags(self, feats: np.ndarray) -> np.ndarray:
        out = np.zeros((len(feats), 4), bool)
        for j, name in enumerate(self.labels):
            col, direction = self.rules[name]
            t = self.thresholds[name]
            out[:, j] = feats[:, col] < t if direction == "below" else feats[:, col] > t
        return out

    def to_dict(self) -> dict:
        return {"a": self.a, "b": self.b, "thresholds": self.thresholds}
