"""How much blur dlib's identity judge tolerates on real 64 x 64 crops: a scale for reconstructions.

    python -m evaluation.identity_blur --data ../shared/celeba --split test --faces 150

Blurs each real test crop with a Gaussian of each ``--sigmas`` and prints the blurred crops'
PSNR against the originals, and dlib's distance and same-person share between the two. A
reconstruction with a given PSNR can be read against this: at a PSNR where plain blur already
loses the person, a decoder cannot be expected to keep it through pixel fidelity alone.
"""
from __future__ import annotations

import argparse

import torch
from PIL import ImageFilter
from torchvision.transforms.functional import pil_to_tensor, to_pil_image

from evaluation.identity import SAME_PERSON_THRESHOLD, FaceEmbedder, distance
from evaluation.metrics import distance_summary, psnr
from training.celeba import CelebA, load_crops


def blur_scale(crops: torch.Tensor, sigmas: list[float], embedder: FaceEmbedder) -> list[dict[str, float]]:
    """uint8 ``N x 3 x H x W`` crops -> per sigma: mean PSNR (as the evaluation reports it for
    reconstructions) and dlib's distance summary, blurred crop against original."""
    originals = embedder.embed_batch(crops)
    rows = []
    for sigma in sigmas:
        blurred = torch.stack([pil_to_tensor(to_pil_image(c).filter(ImageFilter.GaussianBlur(sigma))) for c in crops])
        ident = distance_summary([distance(a, b) for a, b in zip(originals, embedder.embed_batch(blurred))],
                                 SAME_PERSON_THRESHOLD)
        rows.append({"sigma": sigma, "psnr": psnr(crops / 255.0, blurred / 255.0).mean().item(), **ident})
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="dlib same-person rate of blurred real crops (identity scale).")
    ap.add_argument("--data", required=True, help="CelebA folder or pack")
    ap.add_argument("--split", default="test", choices=["train", "val", "test"])
    ap.add_argument("--faces", type=int, default=150, help="the first N crops of the split")
    ap.add_argument("--size", type=int, default=64, help="crop size (the model's image_size)")
    ap.add_argument("--sigmas", type=float, nargs="+", default=[1.0, 1.5, 2.0, 3.0])
    ap.add_argument("--cache-dir", default=None)
    args = ap.parse_args(argv)
    try:
        crops = load_crops(CelebA(args.data, args.split), args.size, args.cache_dir)[: args.faces]
    except (OSError, ValueError) as e:
        raise SystemExit(f"error: {e}") from e
    rows = blur_scale(crops, args.sigmas, FaceEmbedder())
    print(f"{len(crops)} {args.split} crops of {args.size} px; same person: dlib distance < {SAME_PERSON_THRESHOLD}")
    print("| blur sigma (px) | PSNR (dB) | dlib distance | same person | pairs found |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        dist = "–" if r["mean_distance"] is None else f"{r['mean_distance']:.2f}"
        same = "–" if r["same_person"] is None else f"{100 * r['same_person']:.1f} %"
        print(f"| {r['sigma']:g} | {r['psnr']:.1f} | {dist} | {same} | {r['pairs']} of {r['of']} |")


if __name__ == "__main__":
    main()
