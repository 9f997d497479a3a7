"""Compute the canonical 5-point landmark template: the mean MTCNN landmarks over CelebA train images.

    python -m training.landmark_template --data ../shared/celeba --count 1000

Prints the template in the CelebA aligned frame (178 x 218); paste it into
``model/preprocessing.py`` (LANDMARK_TEMPLATE) so the app's detector and the training crop agree.
"""
from __future__ import annotations

import argparse

import numpy as np
from PIL import Image
from tqdm import tqdm

from model.faces import FaceDetector
from training.celeba import CelebA


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="CelebA folder (CelebA's own layout)")
    ap.add_argument("--count", type=int, default=1000, help="number of train images to average")
    args = ap.parse_args()
    celeba = CelebA(args.data, split="train")
    detector = FaceDetector()
    points = []
    for name in tqdm(celeba.names[: args.count], desc="MTCNN"):
        faces = detector.detect(Image.open(celeba.image_path(name)).convert("RGB"))
        if faces:
            points.append(max(faces, key=lambda f: f.score).landmarks)
    pts = np.stack(points)
    print(f"faces found in {len(pts)} of {min(args.count, len(celeba))} images")
    print("LANDMARK_TEMPLATE = (  # left eye, right eye, nose, left mouth corner, right mouth corner")
    for x, y in pts.mean(0):
        print(f"    ({x:.2f}, {y:.2f}),")
    print(")")
    print("std:", np.round(pts.std(0), 2).tolist())


if __name__ == "__main__":
    main()
