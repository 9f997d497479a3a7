"""Markdown tables of evaluation results (``evaluation/evaluate.py``) and of the ablation."""
from __future__ import annotations

from typing import Any


def pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.1f} %"


def num(v: float | None, digits: int = 3) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _identity(cell: dict[str, Any]) -> str:
    ident = cell["identity_original"]
    if not ident["of"]:
        return "–"
    return f"{num(ident['mean_distance'], 2)} · {pct(ident['same_person'])}"


def _reference_line(ref: dict[str, Any] | None) -> list[str]:
    """The identity scale: the same distances between real crops of one person and of two people."""
    if not ref:
        return []
    same, other = ref["same_person_pairs"], ref["different_people_pairs"]
    return [f"- Identity scale on real 64 x 64 crops: another photo of the same person, mean distance "
            f"{num(same['mean_distance'], 2)}, {pct(same['same_person'])} same person ({same['pairs']} pairs); "
            f"a different person, {num(other['mean_distance'], 2)}, {pct(other['same_person'])} "
            f"same person ({other['pairs']} pairs)."]


def markdown_report(m: dict[str, Any]) -> str:
    """The per-attribute results table with its legend and the reconstruction / identity / speed lines."""
    s = m["summary"]
    lines = [
        f"### Evaluation of `{m['weights']}` on `{m['data']}` ({m['split']} split, {m['images']} images)",
        "",
        f"Command: `{m['command']}`",
        "",
        "Encoder acc / bal. acc: the checkpoint's classifier head against CelebA's labels. "
        "Judge acc: the independent attribute judge on the same real crops. "
        "Edit success: share of edited faces the judge calls the target value (off→on: faces CelebA "
        "labels without the attribute, switched on; on→off: the reverse), in brackets the judge's "
        "score on the plain reconstructions of the same faces. Others kept: share of the judge's "
        "other 39 decisions unchanged between reconstruction and edit (off→on / on→off). "
        f"Identity: dlib face-recognition distance original→edit on the first {m['identity_images']} "
        f"faces, and the share under {m['identity']['threshold']} (same person).",
        "",
        _row(["attribute", "encoder acc", "encoder bal. acc", "judge acc", "edit off→on", "edit on→off",
              "others kept", "identity off→on", "identity on→off"]),
        _row(["---"] * 9),
    ]
    for name, a in m["attributes"].items():
        on, off = a["edits"]["on"], a["edits"]["off"]
        lines.append(_row([
            name, pct(a["accuracy"]), pct(a["balanced_accuracy"]), pct(a["judge_accuracy"]),
            f"{pct(on['success'])} ({pct(on['baseline'])})", f"{pct(off['success'])} ({pct(off['baseline'])})",
            f"{pct(on['others_kept'])} / {pct(off['others_kept'])}", _identity(on), _identity(off),
        ]))
    lines.append(_row([
        "**mean**", pct(s["accuracy"]), pct(s["balanced_accuracy"]), pct(s["judge_accuracy"]),
        f"{pct(s['edit_success_on'])} ({pct(s['edit_baseline_on'])})",
        f"{pct(s['edit_success_off'])} ({pct(s['edit_baseline_off'])})",
        f"{pct(s['others_kept_on'])} / {pct(s['others_kept_off'])}",
        f"{num(s['identity_distance_on'], 2)} · {pct(s['identity_same_on'])}",
        f"{num(s['identity_distance_off'], 2)} · {pct(s['identity_same_off'])}",
    ]))
    r, ident = m["reconstruction"], m["identity"]
    det = ident["detection_rate"]
    rid = ident["reconstruction"]
    sp = m["speed"]
    lines += ["", f"- Reconstruction: MSE {num(r['mse'], 4)}, PSNR {num(r['psnr'], 2)} dB, SSIM {num(r['ssim'])}.",
              f"- Edit success over all attributes and both directions: {pct(s['edit_success'])} "
              f"(judge on the reconstructions: {pct(s['edit_baseline'])}); others kept {pct(s['others_kept'])}.",
              f"- Edits as the app pastes them (the original crop plus the edit's change under the face mask, "
              f"its own detail replaced where the edit changes much): "
              f"edit success {pct(s['detail_success_on'])} off→on, {pct(s['detail_success_off'])} on→off"
              + (f"; identity original→pasted edit: mean distance {num(s['identity_distance_detail'], 2)}, "
                 f"{pct(s['identity_same_detail'])} same person." if m["identity_images"] else ".")]
    if m["identity_images"]:
        lines += [
            f"- Identity original→reconstruction: mean distance {num(rid['mean_distance'], 2)}, "
            f"{pct(rid['same_person'])} same person; edit vs reconstruction: "
            f"{pct(s['identity_same_reconstruction'])} same person (mean over attributes and directions).",
            *_reference_line(ident.get("reference")),
            f"- Face detection (dlib HOG on crops resized to {ident['upsample']} px): originals "
            f"{pct(det['original'])}, reconstructions {pct(det['reconstruction'])}, edits {pct(det['edit'])}.",
        ]
    else:
        lines.append("- Identity: not measured (--identity-limit 0).")
    lines += [
        f"- Speed (encode + decode on this CPU, torch threads: {sp['threads']}): "
        f"{num(sp['ms_per_image_batched'], 2)} ms per image in a batch of {sp['batch']}, "
        f"{num(sp['ms_single_image'], 2)} ms for a single image.",
        f"- Judge mean accuracy over all 40 attributes on these real crops: {pct(m['judge_mean_accuracy_40'])}.",
        "",
    ]
    return "\n".join(lines)


def ablation_table(results: dict[str, dict[str, Any]], weights_off: dict[str, list[str]]) -> str:
    """One row per variant (its evaluation's ``metrics.json``), headline numbers side by side.

    "Edit gain" is edit success minus the judge's score on the plain reconstructions, over both
    directions: what the attribute input adds, whatever the judge makes of the reconstructions.
    """
    lines = [
        _row(["variant", "terms off", "encoder acc", "encoder bal. acc", "edit off→on (recon)",
              "edit on→off (recon)", "edit gain", "others kept", "identity dist · same", "PSNR", "SSIM"]),
        _row(["---"] * 11),
    ]
    for name, m in results.items():
        s, r = m["summary"], m["reconstruction"]
        gain = (None if s["edit_success"] is None or s["edit_baseline"] is None
                else f"{100 * (s['edit_success'] - s['edit_baseline']):+.1f} pts")
        lines.append(_row([
            name, ", ".join(weights_off[name]) or "none", pct(s["accuracy"]), pct(s["balanced_accuracy"]),
            f"{pct(s['edit_success_on'])} ({pct(s['edit_baseline_on'])})",
            f"{pct(s['edit_success_off'])} ({pct(s['edit_baseline_off'])})", gain or "–", pct(s["others_kept"]),
            f"{num(s['identity_distance'], 2)} · {pct(s['identity_same'])}", num(r["psnr"], 2), num(r["ssim"]),
        ]))
    return "\n".join(lines) + "\n"


def ablation_user_table(results: dict[str, dict[str, Any]]) -> str:
    """One row per variant from its user-level ``metrics.json``: the returned photos' edit success per
    direction (the headline judge), same person, and the z-probe (mean and highest attribute)."""
    lines = [_row(["variant", "user edit off→on", "user edit on→off", "same person", "z-probe mean",
                   "z-probe highest"]), _row(["---"] * 6)]
    for name, m in results.items():
        s = m["summary"]["user_level"]
        probe = {a: v for a, v in m["z_probe"].items() if v is not None}
        top = max(probe, key=probe.get) if probe else None
        lines.append(_row([
            name, pct(s["on"]["success"]), pct(s["off"]["success"]), pct(s["both"]["same_person"]),
            pct(sum(probe.values()) / len(probe)) if probe else "–",
            f"{top} {pct(probe[top])}" if top else "–",
        ]))
    return "\n".join(lines) + "\n"
