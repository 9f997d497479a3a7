"""Identity judge of the evaluation: dlib's face-recognition embedding, from the library
(``model/identity.py``: dlib's own detection and 5-point alignment, or a fixed chip of a face
already aligned like a CelebA frame, as the app reads it).

The evaluation needs dlib (requirements.txt): importing this module without it raises ImportError.

    python -m evaluation.identity --data ../shared/celeba

measures :data:`model.identity.FRAME_CHIP_BOX` (the median of dlib's own chip boxes on train frames)
and, on pairs of test frames of the same and of different people, how often each way of reading a
face (dlib's own detection and landmarks on the frame; the app's MTCNN alignment and fixed chip)
gets the same-person verdict right.
"""
from __future__ import annotations

import argparse
import random
from collections import defaultdict
from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image
from tqdm import tqdm

from model.identity import (
    FRAME_CHIP_BOX, INSTALL_HINT, SAME_PERSON_THRESHOLD, FaceEmbedder, dlib_available, distance,
)

if not dlib_available():
    raise ImportError(f"the identity judge needs dlib and face_recognition_models: {INSTALL_HINT}")

__all__ = ["SAME_PERSON_THRESHOLD", "FaceEmbedder", "distance", "dlib_chip_boxes", "verification"]

Embed = Callable[[np.ndarray], np.ndarray | None]


def dlib_chip_boxes(embedder: FaceEmbedder, frames: Sequence[np.ndarray]) -> np.ndarray:
    """``N x 4`` boxes (left, top, right, bottom) of the chips dlib cuts with its own detector (upsampled
    once) and landmarks, on the frames where it finds exactly one face."""
    boxes = []
    for frame in tqdm(frames, desc="dlib chips"):
        frame = np.ascontiguousarray(frame)
        faces = embedder.detector(frame, 1)
        if len(faces) == 1:
            rect = embedder.dlib.get_face_chip_details(embedder.shapes(frame, faces[0]), 150, 0.25).rect
            boxes.append((rect.left(), rect.top(), rect.right(), rect.bottom()))
    return np.array(boxes, dtype=np.float64).reshape(-1, 4)


def verification(pairs: dict[str, list[tuple[np.ndarray, np.ndarray]]], embed: Embed) -> dict:
    """Share of ``same`` pairs under the threshold and of ``different`` pairs at or over it (a face not
    read counts as wrong), and their mean."""
    right = {}
    for kind, items in pairs.items():
        ok = []
        for a, b in tqdm(items, desc=kind):
            d = distance(embed(a), embed(b))
            ok.append(not np.isnan(d) and (d < SAME_PERSON_THRESHOLD) == (kind == "same"))
        right[kind] = float(np.mean(ok))
    return {**right, "accuracy": float(np.mean(list(right.values())))}


def identity_pairs(celeba, n: int, seed: int = 0) -> dict[str, list[tuple[str, str]]]:
    """``n`` pairs of file names of one person and ``n`` of two people, seeded."""
    rng = random.Random(seed)
    by_id = defaultdict(list)
    for name, person in zip(celeba.names, celeba.identities):
        by_id[person].append(name)
    people = sorted(p for p, names in by_id.items() if len(names) > 1)
    same = [tuple(rng.sample(by_id[p], 2)) for p in rng.sample(people, min(n, len(people)))]
    person = dict(zip(celeba.names, celeba.identities))
    different: list[tuple[str, str]] = []
    while len(different) < n:
        a, b = rng.sample(celeba.names, 2)
        if person[a] != person[b]:
            different.append((a, b))
    return {"same": same, "different": different}


def main(argv: list[str] | None = None) -> dict:
    from model.edit_check import warp_to_frame
    from model.faces import FaceDetector
    from training.celeba import CelebA

    ap = argparse.ArgumentParser(description="Measure the app's identity check against dlib's own on CelebA.")
    ap.add_argument("--data", required=True, help="CelebA folder (CelebA's own layout, with identity_CelebA.txt)")
    ap.add_argument("--fit", type=int, default=300, help="train frames for the median chip box")
    ap.add_argument("--pairs", type=int, default=120, help="test pairs of each kind (same / different person)")
    args = ap.parse_args(argv)
    embedder, detector = FaceEmbedder(), FaceDetector()

    def frame(celeba, name: str) -> np.ndarray:
        with Image.open(celeba.image_path(name)) as im:
            return np.asarray(im.convert("RGB"))

    train, test = CelebA(args.data, "train"), CelebA(args.data, "test")
    boxes = dlib_chip_boxes(embedder, [frame(train, n) for n in train.names[: args.fit]])
    median = np.median(boxes, axis=0)
    print(f"median dlib chip box over {len(boxes)} train frames: {tuple(median.round(2).tolist())} "
          f"(std {boxes.std(axis=0).round(1).tolist()}; in use: {FRAME_CHIP_BOX})")

    def own(image: np.ndarray) -> np.ndarray | None:
        faces = embedder.detector(image, 1)
        if not faces:
            return None
        face = max(faces, key=lambda r: r.area())
        return np.asarray(embedder.net.compute_face_descriptor(image, embedder.shapes(image, face)), np.float32)

    def app(image: np.ndarray) -> np.ndarray | None:
        faces = detector.detect(Image.fromarray(image))
        if not faces:
            return None
        face = max(faces, key=lambda f: f.box[2] - f.box[0])
        return embedder.embed_frames([warp_to_frame(image, face.landmarks)])[0]

    pairs = {kind: [(frame(test, a), frame(test, b)) for a, b in items]
             for kind, items in identity_pairs(test, args.pairs).items()}
    report = {"chip_boxes": len(boxes), "median_chip_box": median.tolist(),
              "dlib_own": verification(pairs, own), "app": verification(pairs, app)}
    for key, label in (("dlib_own", "dlib's detection and landmarks"), ("app", "MTCNN alignment, fixed chip")):
        r = report[key]
        print(f"{label}: same person recognised {100 * r['same']:.1f} %, different people told apart "
              f"{100 * r['different']:.1f} %, accuracy {100 * r['accuracy']:.1f} % "
              f"({args.pairs} test pairs each, threshold {SAME_PERSON_THRESHOLD})")
    return report


if __name__ == "__main__":
    main()
