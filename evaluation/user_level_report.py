"""Markdown tables of the user-level evaluation (``evaluation/user_level.py``) and of its z-probe.

Used for ``results.md`` and, from the same ``metrics.json``, for the model card.
"""
from __future__ import annotations

from typing import Any

from evaluation.report import pct

ARROWS = {"on": "off → on", "off": "on → off"}


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _pair(success: float | None, same: float | None) -> str:
    return "–" if success is None else f"{pct(success)} · {pct(same)}"


def _judged(cell: dict[str, Any] | None, judge: str) -> str:
    """A judge's success with, in brackets, its reading of the target value on the original photos."""
    j = _get(cell, "by_judge", judge)
    return "–" if not j or j.get("success") is None else f"{pct(j['success'])} ({pct(j['baseline'])})"


def user_level_table(m: dict[str, Any]) -> str:
    """One row per attribute and direction: the headline, each judge, identity, plain, tuned, crop level."""
    strict = bool(_get(m, "judges", "strict_judge"))
    head = ["attribute", "direction", "n", "**success (headline)**", *(["strict judge"] if strict else []),
            "judge/", "same person", "dlib missed · no face", "others kept", "plain: success · same",
            "tuned: n · success · same", "crop level, judge/ (recon)"]
    rows = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for attribute, per_dir in m["user_level"].items():
        for direction, c in per_dir.items():
            plain = _get(m, "user_level_plain", attribute, direction) or {}
            tuned = _get(m, "user_level_tuned", attribute, direction) or {}
            crop = _get(m, "crop_level", attribute, direction) or {}
            cells = [attribute, ARROWS[direction], str(c["n"]), f"**{pct(c['success'])}**",
                     *([_judged(c, "strict_judge")] if strict else []), _judged(c, "judge"),
                     pct(c["same_person"]), f"{c['dlib_missed']} · {c['no_face']}", pct(c["others_kept"]),
                     _pair(plain.get("success"), plain.get("same_person")),
                     f"{tuned.get('n', 0)} · {_pair(tuned.get('success'), tuned.get('same_person'))}",
                     "–" if crop.get("success") is None else f"{pct(crop['success'])} ({pct(crop['baseline'])})"]
            rows.append("| " + " | ".join(cells) + " |")
    s = m["summary"]
    for direction in ("on", "off"):
        d = {v: s[v][direction] for v in s}
        cells = ["**mean**", ARROWS[direction], "", f"**{pct(d['user_level']['success'])}**",
                 *([""] if strict else []), "", pct(d["user_level"]["same_person"]), "",
                 pct(d["user_level"]["others_kept"]),
                 _pair(d["user_level_plain"]["success"], d["user_level_plain"]["same_person"]),
                 _pair(d["user_level_tuned"]["success"], d["user_level_tuned"]["same_person"]),
                 f"{pct(d['crop_level']['success'])} ({pct(d['crop_level']['baseline'])})"]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def z_probe_table(m: dict[str, Any]) -> str:
    """Balanced accuracy of the MLP and linear probes on z beside the encoder's head, per attribute."""
    probe = m.get("z_probe_detail") or {}
    if "mlp" not in probe:
        return f"Not measured: {probe.get('skipped', 'no z-probe in these results')}"
    rows = ["| attribute | z-probe MLP | z-probe linear | encoder head |", "| --- | --- | --- | --- |"]
    for a in probe["mlp"]:
        rows.append(f"| {a} | {pct(probe['mlp'][a])} | {pct(probe['linear'][a])} | {pct(probe['head'][a])} |")
    return "\n".join(rows)


def legend(m: dict[str, Any]) -> str:
    """What the columns mean and how many faces stand behind them."""
    judges = ("the lower of the strict judge's and judge/'s shares" if _get(m, "judges", "strict_judge")
              else "judge/ alone (no strict judge was given)")
    tuned = (f"tuned: the first {m['tune_faces_per_cell']} faces of each sample ({m['tuned_faces']} faces in all), "
             f"edited through a decoder tuned to each face for {m['tune_steps']} steps (default paste)"
             if m["tune_faces_per_cell"] else "tuned: not measured (--tune-faces 0)")
    return (f"CelebA {m['split']} split through the whole pipeline (MTCNN detection on the 178 x 218 frame, "
            f"alignment, edit, paste back): up to {m['faces_per_cell']} faces per attribute and direction, a "
            f"seeded sample (seed {m['seed']}; {m['faces']} faces in all), off → on on faces CelebA labels "
            "without the attribute, on → off on faces labelled with it. Success: share of returned photos "
            f"read as the target value; the headline is {judges}; in brackets, the same judge on the original "
            "photos. Same person: dlib distance photo → returned photo under "
            f"{m['same_person_threshold']}, a face that dlib misses or the editor does not find counting as "
            "not the same person. Others kept: share of a judge's other decisions unchanged (the lower judge). "
            f"Plain: `paste=\"plain\"`. {tuned}. Crop level: the decoded 64 x 64 edit judged by judge/ (in "
            "brackets, its reconstruction).")


def markdown_report(m: dict[str, Any]) -> str:
    """results.md: the user-level table with its legend, then the z-probe."""
    probe = m.get("z_probe_detail") or {}
    probe_intro = (f"Balanced accuracy on {probe['scored']} faces of the split, probes fitted on the other "
                   f"{probe['fit']} (0.5: z tells nothing about the attribute)." if "mlp" in probe else "")
    return "\n".join([
        f"# User-level evaluation of `{m['weights']}`", "",
        f"`{m['command']}` ({m['minutes']} min)", "",
        legend(m), "", user_level_table(m), "",
        "## z-probe (RQ1)", "", probe_intro, "", z_probe_table(m), "",
        "Contact sheets (photo | returned photo, the sample's first faces): "
        + ", ".join(f"[{k}]({v})" for k, v in m["sheets"].items()), ""])
