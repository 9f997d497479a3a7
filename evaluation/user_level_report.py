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


def _judged(cell: dict[str, Any] | None, judge: str) -> str:
    """A judge's success with, in brackets, its reading of the target value on the original photos."""
    j = _get(cell, "by_judge", judge)
    return "–" if not j or j.get("success") is None else f"{pct(j['success'])} ({pct(j['baseline'])})"


def _table(head: list[str], rows: list[list[str]]) -> str:
    return "\n".join(["| " + " | ".join(head) + " |", "|" + " --- |" * len(head),
                      *("| " + " | ".join(r) + " |" for r in rows)])


def _judges(m: dict[str, Any]) -> list[tuple[str, str]]:
    """(key, column title) of the judges the results have."""
    return [*([("strict_judge", "strict judge")] if _get(m, "judges", "strict_judge") else []), ("judge", "judge/")]


def user_level_table(m: dict[str, Any]) -> str:
    """Default paste, one row per attribute and direction: the headline, each judge, identity, others
    kept, and the crop level beside them; then the means over attributes."""
    judges = _judges(m)
    head = ["attribute", "direction", "n", "**success (headline)**", *(t for _, t in judges), "same person",
            "took, same person", "dlib missed · no face", "others kept", "crop level, judge/ (recon)"]
    rows = []
    for attribute, per_dir in m["user_level"].items():
        for direction, c in per_dir.items():
            crop = _get(m, "crop_level", attribute, direction) or {}
            rows.append([attribute, ARROWS[direction], str(c["n"]), f"**{pct(c['success'])}**",
                         *(_judged(c, key) for key, _ in judges), pct(c["same_person"]),
                         pct(c.get("took_same_person")), f"{c['dlib_missed']} · {c['no_face']}",
                         pct(c["others_kept"]),
                         "–" if crop.get("success") is None else f"{pct(crop['success'])} ({pct(crop['baseline'])})"])
    s = m["summary"]
    for direction in ("on", "off"):
        d, crop = s["user_level"][direction], s["crop_level"][direction]
        rows.append(["**mean**", ARROWS[direction], "", f"**{pct(d['success'])}**",
                     *(pct(_get(d, "by_judge", key)) for key, _ in judges), pct(d["same_person"]),
                     pct(d.get("took_same_person")), "", pct(d["others_kept"]),
                     f"{pct(crop['success'])} ({pct(crop['baseline'])})"])
    return _table(head, rows)


def variants_table(m: dict[str, Any]) -> str:
    """Plain paste and tuned decoders, one row per attribute and direction: the headline, each judge
    and the same person; then the means over attributes."""
    judges = _judges(m)
    head = ["attribute", "direction"]
    for title in ("plain", "tuned"):
        head += [*(["tuned n"] if title == "tuned" else []), f"{title}: **success**",
                 *(f"{title}: {t}" for _, t in judges), f"{title}: same person"]
    rows = []
    for attribute, per_dir in m["user_level"].items():
        for direction in per_dir:
            row = [attribute, ARROWS[direction]]
            for variant in ("user_level_plain", "user_level_tuned"):
                c = _get(m, variant, attribute, direction) or {"n": 0, "success": None, "same_person": None}
                row += [*([str(c["n"])] if variant == "user_level_tuned" else []), f"**{pct(c['success'])}**",
                        *(_judged(c, key) for key, _ in judges), pct(c["same_person"])]
            rows.append(row)
    s = m["summary"]
    for direction in ("on", "off"):
        row = ["**mean**", ARROWS[direction]]
        for variant in ("user_level_plain", "user_level_tuned"):
            d = s[variant][direction]
            row += [*([""] if variant == "user_level_tuned" else []), f"**{pct(d['success'])}**",
                    *(pct(_get(d, "by_judge", key)) for key, _ in judges), pct(d["same_person"])]
        rows.append(row)
    return _table(head, rows)


def z_probe_table(m: dict[str, Any]) -> str:
    """Balanced accuracy of the MLP and linear probes on z beside the encoder's head, per attribute."""
    probe = m.get("z_probe_detail") or {}
    if "mlp" not in probe:
        return f"Not measured: {probe.get('skipped', 'no z-probe in these results')}"
    rows = ["| attribute | z-probe MLP | z-probe linear | encoder head |", "| --- | --- | --- | --- |"]
    for a in probe["mlp"]:
        rows.append(f"| {a} | {pct(probe['mlp'][a])} | {pct(probe['linear'][a])} | {pct(probe['head'][a])} |")
    return "\n".join(rows)


def comparison_table(m: dict[str, Any], previous: dict[str, Any], names: tuple[str, str]) -> str:
    """Two checkpoints' user-level results side by side (``names``: this one's, the previous one's):
    per attribute and direction the headline success, the same person and the others kept, then the
    means; then the z-probe MLP per attribute."""
    this, prev = names
    head = ["attribute", "direction", f"success: {this}", prev, f"same person: {this}", prev,
            f"took, same person: {this}", prev, f"others kept: {this}", prev]
    rows = []
    for attribute, per_dir in m["user_level"].items():
        for direction, c in per_dir.items():
            p = _get(previous, "user_level", attribute, direction) or {}
            rows.append([attribute, ARROWS[direction], f"**{pct(c['success'])}**", pct(p.get("success")),
                         pct(c["same_person"]), pct(p.get("same_person")), pct(c.get("took_same_person")),
                         pct(p.get("took_same_person")), pct(c["others_kept"]), pct(p.get("others_kept"))])
    for direction in ("on", "off"):
        d, p = m["summary"]["user_level"][direction], _get(previous, "summary", "user_level", direction) or {}
        rows.append(["**mean**", ARROWS[direction], f"**{pct(d['success'])}**", pct(p.get("success")),
                     pct(d["same_person"]), pct(p.get("same_person")), pct(d.get("took_same_person")),
                     pct(p.get("took_same_person")), pct(d["others_kept"]), pct(p.get("others_kept"))])
    probe, old = _get(m, "z_probe_detail", "mlp") or {}, _get(previous, "z_probe_detail", "mlp") or {}
    rows += [[f"z-probe MLP: {a}", "", pct(v), pct(old.get(a)), *[""] * 6] for a, v in probe.items()]
    return _table(head, rows)


def blend_note(m: dict[str, Any]) -> str:
    """The default paste's blend (``model.paste.Blend``), where the metrics record it."""
    b = m.get("blend")
    if not b:
        return ""
    start = (f"keeps the photo's detail where the edit changes a pixel by at most {b['start']:g}, and "
             if b["start"] else "")
    focus = ""
    if b.get("focus_start") is not None:
        focus = (f"Inside the region of the edited attribute (mouth, forehead, chin; a thin eye band when glasses "
                 f"are removed) it replaces from "
                 f"{b['focus_start']:g}, fully from {b['focus_full_at']:g}. ")
    return (f"The default paste {start}replaces it by the decoded edit fully where the change reaches "
            f"{b['full_at']:g} (0-1 scale, blurred by {b['blur']:g} px). {focus}")


def legend(m: dict[str, Any]) -> str:
    """What the columns mean and how many faces stand behind them."""
    judges = ("the lower of the strict judge's and judge/'s shares (for an attribute the strict judge reads "
              "off a part of the face, the strict judge's)" if _get(m, "judges", "strict_judge")
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
            "not the same person. Took, same person: both at once on the same photo (the headline judge), what a "
            "user asks of an edit. Others kept: share of a judge's other decisions unchanged (the lower judge). "
            f"{blend_note(m)}Plain: `paste=\"plain\"`. {tuned}. Crop level: the decoded 64 x 64 edit judged by judge/ (in "
            "brackets, its reconstruction).")


def markdown_report(m: dict[str, Any]) -> str:
    """results.md: the user-level table with its legend, then the z-probe."""
    probe = m.get("z_probe_detail") or {}
    probe_intro = (f"Balanced accuracy on {probe['scored']} faces of the split, probes fitted on the other "
                   f"{probe['fit']} (0.5: z tells nothing about the attribute)." if "mlp" in probe else "")
    return "\n".join([
        f"# User-level evaluation of `{m['weights']}`", "",
        f"`{m['command']}` ({m['minutes']} min)", "",
        legend(m), "", user_level_table(m), "", "Plain paste and tuned decoders:", "", variants_table(m), "",
        "## z-probe (RQ1)", "", probe_intro, "", z_probe_table(m), "",
        "Contact sheets (photo | returned photo, the sample's first faces): "
        + ", ".join(f"[{k}]({v})" for k, v in m["sheets"].items()), ""])
