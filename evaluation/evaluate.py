"""Evaluate a checkpoint with judges that are not the model being judged.

    python -m evaluation.evaluate --weights weights --data ../shared/celeba --split test --out results/NAME

Measures on the split's 64 x 64 crops (``model/preprocessing.py``):

- classification: accuracy and balanced accuracy of the encoder's head against CelebA's labels;
- edit success: each attribute is switched on for the faces CelebA labels without it (off->on) and
  off for the faces labelled with it (on->off); the independent attribute judge
  (``evaluation/judge.py``, ``judge/``) decides whether each edit shows the target value, and its
  decision on the plain reconstruction of the same faces is the baseline;
- other attributes kept: share of the judge's other 39 decisions equal on reconstruction and edit;
- identity kept: dlib face-recognition distances original->edit and reconstruction->edit, with the
  share under 0.6 (dlib's same-person threshold), on the first ``--identity-limit`` faces; as the
  scale for these numbers at 64 x 64 pixels, the same distances between two real crops of one person
  (another photo of the same CelebA identity in the split) and of two different people;
- the same edit success and identity for the edits as the app pastes them by default (the original
  crop plus the edit's change under the face mask, its own detail taken out where the edit changes
  much, ``model.paste.add_change``);
- reconstruction MSE / PSNR / SSIM, and encode+decode speed on this CPU.

Writes ``--out/metrics.json``, ``--out/results.md``, ``--out/samples.png`` (unlabelled grid, as in
training), ``--out/edits.png`` (the same faces, rows named, with the edits also as the app pastes them)
and ``--out/edits_tuned.png`` (the same with each face's decoder tuned to it, ``model/tuning.py``).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from evaluation.identity import SAME_PERSON_THRESHOLD, FaceEmbedder, distance
from evaluation.judge import AttributeJudge
from evaluation.metrics import (
    EditTally, accuracy, balanced_accuracy, distance_summary, mse, psnr, ssim,
)
from evaluation.report import markdown_report
from model import IFcVAEGAN
from model.paste import add_change
from model.preprocessing import to_model_input, to_uint8
from model.tuning import DEFAULT_TUNE_STEPS
from training.celeba import CelebA, load_crops
from training.edit_sheet import decoded_rows, edit_rows, edit_sheet, save_grid

#: Edit directions: name -> the attribute value the edit sets (applied to faces labelled otherwise).
DIRECTIONS: dict[str, bool] = {"on": True, "off": False}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="Evaluate an IFcVAE-GAN checkpoint with independent judges.")
    ap.add_argument("--weights", default="weights", help="checkpoint folder or Hugging Face Hub id")
    ap.add_argument("--judge", default="judge", help="attribute judge folder (python -m evaluation.judge)")
    ap.add_argument("--data", required=True, help="CelebA folder (CelebA's own layout)")
    ap.add_argument("--split", default="test", choices=["train", "val", "test"])
    ap.add_argument("--out", required=True, help="folder for metrics.json, results.md, samples.png, edits.png")
    ap.add_argument("--limit", type=int, default=0, help="evaluate the first N images of the split (0: all)")
    ap.add_argument("--identity-limit", type=int, default=500,
                    help="measure identity (dlib, slow) on the first N of them (0: skip, -1: all)")
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--cache-dir", default=None, help="where decoded crops are cached")
    ap.add_argument("--tune-steps", type=int, default=DEFAULT_TUNE_STEPS,
                    help="also draw edits_tuned.png: the sheet's faces each decoded by a decoder fitted to "
                         "it for this many steps (the app's Sharper likeness; 0: skip)")
    return ap.parse_args(argv)


def reference_partners(identities: list[int], n: int) -> tuple[list[int | None], list[int | None]]:
    """For each of the first ``n`` faces: the index of another photo of the same person (``None`` if
    the split has none) and of the next photo of somebody else (``None`` if everybody is that person)."""
    photos: dict[int, list[int]] = {}
    for i, person in enumerate(identities):
        photos.setdefault(person, []).append(i)
    same = [next((j for j in photos[identities[i]] if j != i), None) for i in range(n)]
    k = len(identities)
    other = [next((j % k for j in range(i + 1, i + k) if identities[j % k] != identities[i]), None)
             for i in range(n)]
    return same, other


def identity_reference(embedder: FaceEmbedder, images: torch.Tensor, identities: list[int],
                       originals: list[Any]) -> dict[str, Any]:
    """dlib distances between real crops: same person / different people, for ``originals``' faces."""
    same, other = reference_partners(identities, len(originals))
    cache: dict[int, Any] = dict(enumerate(originals))

    def emb(j: int) -> Any:
        if j not in cache:
            cache[j] = embedder.embed_batch(images[j:j + 1])[0]
        return cache[j]

    return {
        "same_person_pairs": distance_summary(
            [distance(originals[i], emb(j)) for i, j in enumerate(same) if j is not None], SAME_PERSON_THRESHOLD),
        "different_people_pairs": distance_summary(
            [distance(originals[i], emb(j)) for i, j in enumerate(other) if j is not None], SAME_PERSON_THRESHOLD),
    }


def evaluate(model: IFcVAEGAN, judge: AttributeJudge, images: torch.Tensor, labels: torch.Tensor,
             identity_limit: int, batch_size: int = 100, identities: list[int] | None = None) -> dict[str, Any]:
    """All measures on uint8 crops ``images`` with CelebA labels ``labels`` (``N x 40``, judge order);
    with CelebA ``identities`` (one per image) also the real-photo identity reference."""
    missing = [a for a in model.attributes if a not in judge.attributes]
    if missing:
        raise ValueError(f"the judge does not cover the model's attributes {missing}")
    columns = [judge.attributes.index(a) for a in model.attributes]
    n = len(images)
    n_id = n if identity_limit < 0 else min(identity_limit, n)
    embedder = FaceEmbedder() if n_id else None
    tallies = {(a, d): EditTally(c, t) for a, c in zip(model.attributes, columns) for d, t in DIRECTIONS.items()}
    cls_pred, judge_real, rec_mse, rec_psnr, rec_ssim, rec_id = [], [], [], [], [], []
    found = {"reconstruction": [], "edit": []}
    originals: list[Any] = []  # embeddings of the first n_id real crops (None: no face found)

    with torch.inference_mode(), tqdm(total=n, desc="evaluate", unit="img") as bar:
        for i in range(0, n, batch_size):
            x = to_model_input(images[i:i + batch_size])
            y = labels[i:i + batch_size].bool()
            mu, _, logits = model.encode(x)
            p = torch.sigmoid(logits)
            rec = model.decode(mu, p)
            cls_pred.append(logits > 0)
            judge_real.append(judge.predict(x))
            judged_rec = judge.predict(rec)
            rec_mse.append(mse(x, rec))
            rec_psnr.append(psnr(x, rec))
            rec_ssim.append(ssim(x, rec))
            k = max(0, min(n_id - i, len(x)))  # faces of this batch inside the identity subset
            if k:
                emb_x = embedder.embed_batch(images[i:i + k])
                emb_rec = embedder.embed_batch(to_uint8(rec[:k]))
                originals += emb_x
                found["reconstruction"] += [e is not None for e in emb_rec]
                rec_id += [distance(a, b) for a, b in zip(emb_x, emb_rec)]
            for (attr, _), tally in tallies.items():
                rows = torch.nonzero(y[:, tally.column] != tally.target).squeeze(1)
                if not len(rows):
                    continue
                edit = model.decode(mu[rows], model.attribute_values(p[rows], {attr: float(tally.target)}))
                detail = add_change(x[rows], rec[rows], edit)
                tally.add(judged_rec[rows], judge.predict(edit), judge.predict(detail))
                in_id = rows < k
                if in_id.any():
                    ids = rows[in_id].tolist()
                    emb_edit = embedder.embed_batch(to_uint8(edit[in_id]))
                    emb_detail = embedder.embed_batch(to_uint8(detail[in_id]))
                    found["edit"] += [e is not None for e in emb_edit]
                    tally.add_identity([distance(emb_x[j], e) for j, e in zip(ids, emb_edit)],
                                       [distance(emb_rec[j], e) for j, e in zip(ids, emb_edit)],
                                       [distance(emb_x[j], e) for j, e in zip(ids, emb_detail)])
            bar.update(len(x))

    cls_pred, judge_real = torch.cat(cls_pred), torch.cat(judge_real)
    model_labels = labels[:, columns].bool()
    cls_acc, cls_bal = accuracy(cls_pred, model_labels), balanced_accuracy(cls_pred, model_labels)
    judge_acc = accuracy(judge_real, labels.bool())
    judge_bal = balanced_accuracy(judge_real, labels.bool())
    edits = {a: {d: tallies[a, d].summary(SAME_PERSON_THRESHOLD) for d in DIRECTIONS} for a in model.attributes}
    per_attribute = {
        a: {"positives": int(model_labels[:, j].sum()), "accuracy": cls_acc[j].item(),
            "balanced_accuracy": cls_bal[j].item(), "judge_accuracy": judge_acc[columns[j]].item(),
            "judge_balanced_accuracy": judge_bal[columns[j]].item(), "edits": edits[a]}
        for j, a in enumerate(model.attributes)
    }
    return {
        "images": n,
        "identity_images": n_id,
        "attributes": per_attribute,
        "judge_mean_accuracy_40": judge_acc.mean().item(),
        "reconstruction": {"mse": torch.cat(rec_mse).mean().item(), "psnr": torch.cat(rec_psnr).mean().item(),
                           "ssim": torch.cat(rec_ssim).mean().item()},
        "identity": {
            "threshold": SAME_PERSON_THRESHOLD,
            "upsample": embedder.upsample if embedder else None,
            "detection_rate": {k: (sum(v) / len(v) if v else None)
                               for k, v in {"original": [e is not None for e in originals], **found}.items()},
            "reconstruction": distance_summary(rec_id, SAME_PERSON_THRESHOLD),
            "reference": identity_reference(embedder, images, identities, originals)
            if embedder and identities else None,
        },
        "summary": summarize(per_attribute),
    }


def summarize(per_attribute: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    """Means over attributes of the headline numbers; edit numbers per direction and over both."""
    def mean(values: list[float | None]) -> float | None:
        vals = [v for v in values if v is not None and not math.isnan(v)]
        return sum(vals) / len(vals) if vals else None

    attrs = list(per_attribute.values())
    out = {key: mean([a[key] for a in attrs]) for key in ("accuracy", "balanced_accuracy", "judge_accuracy")}
    for direction in (*DIRECTIONS, None):
        cells = [a["edits"][d] for a in attrs for d in DIRECTIONS if direction in (d, None)]
        suffix = f"_{direction}" if direction else ""
        out[f"edit_success{suffix}"] = mean([c["success"] for c in cells])
        out[f"edit_baseline{suffix}"] = mean([c["baseline"] for c in cells])
        out[f"others_kept{suffix}"] = mean([c["others_kept"] for c in cells])
        out[f"identity_distance{suffix}"] = mean([c["identity_original"]["mean_distance"] for c in cells])
        out[f"identity_same{suffix}"] = mean([c["identity_original"]["same_person"] for c in cells])
        out[f"detail_success{suffix}"] = mean([c["detail_success"] for c in cells])
        out[f"identity_distance_detail{suffix}"] = mean([c["identity_detail"]["mean_distance"] for c in cells])
        out[f"identity_same_detail{suffix}"] = mean([c["identity_detail"]["same_person"] for c in cells])
    out["identity_same_reconstruction"] = mean([c["identity_reconstruction"]["same_person"]
                                                for a in attrs for c in a["edits"].values()])
    return out


@torch.inference_mode()
def speed(model: IFcVAEGAN, images: torch.Tensor, repeats: int = 5) -> dict[str, float]:
    """Encode+decode milliseconds per image: in a batch of up to 64, and one image at a time."""
    def ms_per_image(x: torch.Tensor) -> float:
        model.reconstruct(x)  # warm-up
        t = time.perf_counter()
        for _ in range(repeats):
            model.reconstruct(x)
        return (time.perf_counter() - t) / repeats / len(x) * 1000

    x = to_model_input(images[:64])
    return {"threads": torch.get_num_threads(), "batch": len(x), "ms_per_image_batched": ms_per_image(x),
            "ms_single_image": ms_per_image(x[:1])}


def _json_safe(obj: Any) -> Any:
    """NaN / inf -> None, recursively (strict JSON)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_json_safe(v) for v in obj]
    return obj


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        model = IFcVAEGAN.load(args.weights)
    except (OSError, ValueError) as e:  # CheckpointError, Hub errors, invalid Hub ids
        raise SystemExit(f"error: cannot load checkpoint {args.weights!r} (a folder or a Hub id): {e}") from e
    try:
        judge = AttributeJudge.load(args.judge)
        celeba = CelebA(args.data, args.split)
    except (OSError, ValueError) as e:
        raise SystemExit(f"error: {e}") from e
    images = load_crops(celeba, model.config.image_size, args.cache_dir)
    labels = celeba.labels(judge.attributes)
    identities = celeba.identities
    if args.limit:
        images, labels = images[: args.limit], labels[: args.limit]
        identities = identities[: args.limit] if identities else None
    if not len(images):
        raise SystemExit(f"no images in split {args.split!r} of {args.data}")
    t0 = time.time()
    metrics = evaluate(model, judge, images, labels, args.identity_limit, args.batch_size, identities)
    metrics = {"command": " ".join(["python -m evaluation.evaluate", *(argv if argv is not None else sys.argv[1:])]),
               "weights": str(args.weights), "judge": str(args.judge), "data": str(args.data),
               "split": args.split, **metrics, "speed": speed(model, images),
               "eval_minutes": round((time.time() - t0) / 60, 2)}
    metrics = _json_safe(metrics)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    (out / "results.md").write_text(markdown_report(metrics))
    sheet_faces = to_model_input(images[:8])
    rows = decoded_rows(model, sheet_faces)  # decoded once for both pictures
    save_grid(rows, out / "samples.png")
    edit_sheet(edit_rows(rows), out / "edits.png")
    if args.tune_steps:
        edit_sheet(edit_rows(decoded_rows(model, sheet_faces, args.tune_steps)), out / "edits_tuned.png")
    print((out / "results.md").read_text())
    return metrics


if __name__ == "__main__":
    main()
