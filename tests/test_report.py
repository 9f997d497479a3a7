"""The Markdown tables of evaluation and ablation results."""
from evaluation.report import ablation_table


def variant(success: float, baseline: float, psnr: float) -> dict:
    summary = {"accuracy": 0.9, "balanced_accuracy": 0.8, "edit_success": success, "edit_baseline": baseline,
               "edit_success_on": success, "edit_baseline_on": baseline, "edit_success_off": success,
               "edit_baseline_off": baseline, "others_kept": 0.97, "identity_distance": 0.7, "identity_same": 0.1}
    return {"summary": summary, "reconstruction": {"psnr": psnr, "ssim": 0.5}}


def test_ablation_table_rows_and_edit_gain() -> None:
    table = ablation_table({"full": variant(0.443, 0.221, 17.95), "no_gan": variant(0.54, 0.393, 19.27)},
                           {"full": [], "no_gan": ["gan"]})
    lines = table.splitlines()
    assert lines[0].startswith("| variant | terms off |") and "| edit gain |" in lines[0]
    assert len(lines) == 4 and all(line.count("|") == 12 for line in lines)
    assert lines[2].startswith("| full | none | 90.0 % |") and "| +22.2 pts |" in lines[2]
    assert lines[3].startswith("| no_gan | gan |") and "| +14.7 pts |" in lines[3] and "| 19.27 |" in lines[3]
    # an evaluation without edits (no faces in a direction) shows a dash, not a number
    empty = variant(0.5, 0.2, 18.0)
    empty["summary"]["edit_success"] = None
    assert "| – |" in ablation_table({"x": empty}, {"x": ["aux"]})
