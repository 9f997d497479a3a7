"""Time each stage of the face pipeline, and end to end, on a 1-megapixel photo with one face.

    python -m benchmark.pipeline_speed [--weights W] [--attribute Smiling] [--repeats 20] [--threads 0]

The photo is ``examples/portrait.jpg`` scaled to 1152 x 864 (1.0 MP) and saved as a JPEG, so the
end-to-end time covers reading the file through writing the edited PNG. The editor is the app's,
with the edit checks (the strict judge, and dlib's identity check where dlib is installed); the
same path without the checks is timed beside it. A checkpoint with region editors (``weights/eyes/``,
``weights/mouth/``) edits their attributes with them. Prints median seconds and the machine's load.
Goal: <= 0.4 s end to end on a 2-core CPU.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from model.images import load_image, save_png
from model.pipeline import Analysis, FaceEditor, default_weights

REPO = Path(__file__).resolve().parent.parent

SIZE = (1152, 864)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default=None, help="checkpoint (default: $IFCVAE_WEIGHTS, else weights/)")
    ap.add_argument("--attribute", default=None, help="the attribute set to 1 (default: the checkpoint's first)")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    editor = FaceEditor.load(args.weights or default_weights(), checks=True)
    unchecked = FaceEditor(editor.model, editor.detector, regions=editor.regions)
    checker = editor.checker
    assert checker is not None
    changes = {args.attribute or editor.attributes[0]: 1.0}
    by = editor.owner.get(next(iter(changes)))
    with tempfile.TemporaryDirectory() as tmp:
        photo, out = Path(tmp) / "photo.jpg", Path(tmp) / "edited.png"
        Image.open(REPO / "examples" / "portrait.jpg").convert("RGB").resize(SIZE, Image.Resampling.LANCZOS).save(
            photo, quality=90)
        times: dict[str, list[float]] = defaultdict(list)

        def timed(stage: str, fn, *a, **kw):
            t = time.perf_counter()
            value = fn(*a, **kw)
            times[stage].append(time.perf_counter() - t)
            return value

        for i in range(args.repeats + 2):  # the first two runs warm up and are dropped
            image = timed("load (decode, EXIF, RGB)", load_image, photo)
            faces = timed("detect (MTCNN)", editor.detect, image)
            aligned, inputs = timed("align (warp + resize)", editor.align, np.asarray(image), faces)
            mu, probs, recon = timed("encode + reconstruct", editor.encode, inputs)
            regions = timed("cut regions", editor.cut_regions, np.asarray(image), aligned)
            analysis = Analysis(np.asarray(image), aligned, inputs, mu, probs, recon, regions=regions)
            result, edited, _ = timed("edit + paste back (default)", editor.compose, analysis, [0], changes)
            timed("re-encode (probabilities after)", editor.predict, edited)
            timed("edit checks (photo and edit)", editor.check, analysis, [0], result)
            timed("edit checks (edit only)", editor.check, analysis, [0], result)
            timed("save PNG", save_png, result, out)
            for name, e in (("", unchecked), (", with checks", editor)):
                t = time.perf_counter()
                save_png(e.edit(e.analyze(load_image(photo)), changes).image, out)
                times[f"end to end (file in, PNG out){name}"].append(time.perf_counter() - t)
            for name, e in (("", unchecked), (", with checks", editor)):
                t = time.perf_counter()
                e.edit(analysis, changes)
                times[f"app update (cached analysis){name}"].append(time.perf_counter() - t)
            if i < 2:
                for v in times.values():
                    v.clear()
    checks = " and ".join(n for n, on in (("strict judge", checker.judges), ("dlib", checker.identifies)) if on)
    print(f"{SIZE[0]} x {SIZE[1]} photo, 1 face, torch threads {torch.get_num_threads()}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (1 min) at the end, checks by "
          f"{checks or 'nothing'}, {next(iter(changes))}=1 by the "
          f"{f'{by.name} region editor' if by else 'whole-face model'}, median of {args.repeats} runs:")
    for stage, values in times.items():
        print(f"  {stage:46s} {statistics.median(values):7.3f} s")

if __name__ == "__main__":
    main()
