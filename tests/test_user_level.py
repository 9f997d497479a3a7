"""The user-level evaluation end to end on the fixture (real MTCNN, real editor, real dlib, both judges),
and the z-probe and the face sample on cases whose answer is known."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from huggingface_hub import ModelCard
from PIL import Image

from evaluation.contact_sheet import sheet_size, tile_origin
from evaluation.user_level import (DIRECTIONS, SHEET_FACES, CellTally, StrictFrameJudge, choose_faces, headline_judges,
                                   parse_args, publishes)
from evaluation.report import pct
from evaluation.user_level_report import comparison_table, user_level_table, variants_table, z_probe_table
from evaluation.z_probe import z_probe
from model import IFcVAEGAN
from model.preprocessing import CELEBA_FRAME
from release import model_card
from tests.conftest import REPO, evaluation_folder
from training.celeba import CelebA

FACES, TUNE_FACES = 2, 1


def run(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evaluation.user_level", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=900, env={**os.environ, "OMP_NUM_THREADS": "1"})


@pytest.fixture(scope="module")
def evaluated(celeba_tiny: Path, weights_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The command run once on the fixture's 12 faces, with a copy of the shipped checkpoint and a
    small untrained strict judge standing in for strict_judge/."""
    tmp = tmp_path_factory.mktemp("user_level")
    weights, strict = evaluation_folder(tmp, weights_dir)
    out = tmp / "out"
    r = run(["--weights", str(weights), "--data", str(celeba_tiny), "--split", "all", "--out", str(out),
             "--faces", str(FACES), "--tune-faces", str(TUNE_FACES), "--tune-steps", "2",
             "--strict-judge", str(strict), "--threads", "1", "--cache-dir", str(tmp / "cache")])
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    return {"out": out, "weights": weights, "stdout": r.stdout, "stderr": r.stderr,
            "metrics": json.loads((out / "metrics.json").read_text())}


def fraction(v: float | None, allow_none: bool) -> bool:
    return (v is None and allow_none) or (v is not None and 0.0 <= v <= 1.0)


@pytest.mark.slow
def test_metrics_schema_and_headline(evaluated: dict, celeba_tiny: Path) -> None:
    m = evaluated["metrics"]
    model = IFcVAEGAN.load(evaluated["weights"])
    labels = CelebA(celeba_tiny, "all").labels(model.attributes)
    assert "lower of strict_judge and judge" in m["judge"]
    assert list(m["user_level"]) == list(model.attributes) == list(m["z_probe"])
    for j, attribute in enumerate(model.attributes):
        for direction, target in DIRECTIONS.items():
            eligible = int((labels[:, j].bool() != target).sum())
            cell = m["user_level"][attribute][direction]
            assert cell["n"] == min(FACES, eligible)
            empty = cell["n"] == 0
            assert fraction(cell["success"], empty) and fraction(cell["same_person"], empty)
            assert fraction(cell["took_same_person"], empty)
            if not empty:
                assert cell["took_same_person"] <= min(cell["success"], cell["same_person"]) + 1e-9
            # the headline is the lower judge that counts (Smiling: the strict judge's mouth part), and says which
            if not empty:
                by = {name: v["success"] for name, v in cell["by_judge"].items()}
                assert set(by) == {"strict_judge", "judge"} and all(fraction(v, False) for v in by.values())
                counted = ["strict_judge"] if attribute == "Smiling" else ["strict_judge", "judge"]
                assert cell["success"] == min(by[j] for j in counted) == by[cell["judge"]]
                assert cell["no_face"] == 0  # MTCNN finds every fixture face
            assert m["user_level_plain"][attribute][direction]["n"] == cell["n"]
            assert m["user_level_tuned"][attribute][direction]["n"] == min(TUNE_FACES, cell["n"])
            assert m["crop_level"][attribute][direction]["n"] == cell["n"]
            for variant in ("user_level_plain", "user_level_tuned", "crop_level"):
                assert fraction(m[variant][attribute][direction]["success"], True)
        assert fraction(m["z_probe"][attribute], False)
        for probe in ("mlp", "linear", "head"):
            assert fraction(m["z_probe_detail"][probe][attribute], False)
    assert m["z_probe_detail"]["fit"] + m["z_probe_detail"]["scored"] == 12
    for direction in ("on", "off", "both"):  # a mean of per-cell minima is at most each judge's mean
        s = m["summary"]["user_level"][direction]
        assert set(s["by_judge"]) == {"strict_judge", "judge"}
        assert fraction(s["success"], False) and s["success"] <= min(s["by_judge"].values()) + 1e-9
    # the same figures next to the checkpoint, and in the table
    assert json.loads((evaluated["weights"] / "metrics.json").read_text()) == m
    table = (evaluated["out"] / "results.md").read_text()
    assert all(f"| {a} | off → on | " in table for a in model.attributes) and "## z-probe (RQ1)" in table
    assert "| Smiling |" in evaluated["stdout"] and "faces of the all split" in evaluated["stderr"]


@pytest.mark.slow
def test_contact_sheets_show_photo_and_returned_photo(evaluated: dict, celeba_tiny: Path) -> None:
    m = evaluated["metrics"]
    celeba = CelebA(celeba_tiny, "all")
    cells = choose_faces(celeba.labels(tuple(m["user_level"])), tuple(m["user_level"]), FACES, m["seed"])
    written = 0
    for (attribute, direction), faces in cells.items():
        path = evaluated["out"] / "sheets" / f"{attribute}_{direction}.jpg"
        if not faces:
            assert not path.exists()
            continue
        assert m["sheets"][f"{attribute}_{direction}"] == f"sheets/{attribute}_{direction}.jpg"
        sheet = np.asarray(Image.open(path).convert("RGB"))
        count = min(len(faces), SHEET_FACES)
        assert (sheet.shape[1], sheet.shape[0]) == sheet_size(count, CELEBA_FRAME)
        w, h = CELEBA_FRAME
        for k, face in enumerate(faces[:count]):
            x, y = tile_origin(k, CELEBA_FRAME)
            photo = np.asarray(Image.open(celeba.image_path(celeba.names[face])).convert("RGB")).astype(int)
            left = sheet[y:y + h, x:x + w].astype(int)
            assert np.abs(left - photo).mean() < 2.0  # the photo, untouched but for JPEG, on the left
            returned = sheet[y:y + h, x + w + 2:x + 2 * w + 2].astype(int)
            # the returned photo beside it: the edit adds its changes to the JPEG noise the left half has
            assert np.abs(returned - photo).mean() > np.abs(left - photo).mean()
        written += 1
    assert written == len(m["sheets"]) >= 10


@pytest.mark.slow
def test_model_card_shows_the_same_figures_and_a_sheet(evaluated: dict) -> None:
    m, weights = evaluated["metrics"], evaluated["weights"]
    assert model_card.main(["--weights", str(weights)]) == 0
    card = ModelCard.load(weights / "README.md")
    section = card.text[card.text.index("### What a user gets"):card.text.index("### The decoded 64 x 64 crops")]
    assert all(table(m) in section for table in (user_level_table, variants_table, z_probe_table))
    assert m["command"] in section
    for name in model_card.CARD_SHEETS:  # copied next to the card and shown in it
        copy = weights / f"user_level_{name}.jpg"
        assert copy.read_bytes() == (evaluated["out"] / m["sheets"][name]).read_bytes()
        assert f"]({copy.name})" in section
    got = {r.metric_name: r.metric_value for r in card.data.eval_results}
    assert got[model_card.USER_LEVEL_HEADLINES[0][1]] == round(m["summary"]["user_level"]["on"]["success"], 4)
    # the user-level file is not the crop-level evaluation: refused as --metrics, with the reason
    assert model_card.main(["--weights", str(weights), "--metrics", str(weights / "metrics.json")]) == 1
    # a previous checkpoint's figures beside these, each from its own file
    previous = json.loads(json.dumps(m))
    previous["user_level"]["Smiling"]["on"]["success"] = 0.123
    previous["z_probe_detail"]["mlp"]["Smiling"] = 0.987
    (evaluated["out"] / "previous.json").write_text(json.dumps(previous))
    assert model_card.main(["--weights", str(weights), "--previous", str(evaluated["out"] / "previous.json"),
                            "--previous-name", "v1"]) == 0
    text = ModelCard.load(weights / "README.md").text
    side = text[text.index("### Beside the previous checkpoint (v1)"):text.index("### What a user gets")]
    assert comparison_table(m, previous, ("this", "v1")) in side
    assert "12.3 %" in side and "98.7 %" in side and pct(m["user_level"]["Smiling"]["on"]["success"]) in side
    assert "another version of the strict judge" not in side  # the same judge behind both
    previous["judges_sha256"]["strict_judge"] = "0123456789abcdef"
    (evaluated["out"] / "previous.json").write_text(json.dumps(previous))
    assert model_card.main(["--weights", str(weights), "--previous", str(evaluated["out"] / "previous.json"),
                            "--previous-name", "v1"]) == 0
    assert "another version of the strict judge (0123456789abcdef" in ModelCard.load(weights / "README.md").text


def test_missing_strict_judge_is_a_clear_error(celeba_tiny: Path, tmp_path: Path) -> None:
    r = run(["--weights", "weights", "--data", str(celeba_tiny), "--out", str(tmp_path / "out"),
             "--strict-judge", str(tmp_path / "nowhere")])
    assert r.returncode != 0 and "--strict-judge none" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()


def test_z_probe_reads_an_attribute_that_z_carries_and_not_noise() -> None:
    gen = torch.Generator().manual_seed(0)
    n = 2000
    labels = torch.rand(n, 2, generator=gen) < torch.tensor([0.5, 0.1])  # a common and a rare attribute
    noise = torch.randn(n, 32, generator=gen)
    carried = noise.clone()
    carried[:, 0] += 3.0 * labels[:, 0]  # both attributes carried linearly, in two directions
    carried[:, 1] -= 3.0 * labels[:, 1]
    head = labels.clone()
    head[:, 1] = False  # a head that never sees the rare attribute: balanced accuracy 0.5
    r = z_probe(carried, labels, head, ("common", "rare"))
    assert r["fit"] == 1400 and r["scored"] == 600
    for probe in ("mlp", "linear"):
        assert r[probe]["common"] > 0.88 and r[probe]["rare"] > 0.8
    assert r["head"] == {"common": 1.0, "rare": 0.5}
    r = z_probe(noise, labels, head, ("common", "rare"))
    for probe in ("mlp", "linear"):
        assert all(0.4 < v < 0.6 for v in r[probe].values())


def test_z_probe_refuses_too_few_faces() -> None:
    with pytest.raises(ValueError, match="too few"):
        z_probe(torch.randn(4, 8), torch.zeros(4, 1, dtype=torch.bool), torch.zeros(4, 1, dtype=torch.bool), ("a",))


def test_took_same_person_counts_only_photos_where_both_hold() -> None:
    """The edit read as taken by the headline (lower) judge and dlib's distance under the threshold on
    the same photo; a missed face or a face not found is neither."""
    tally = CellTally(judges=("strict_judge", "judge"))
    yes, no = {"strict_judge": True, "judge": True}, {"strict_judge": False, "judge": False}
    kept = {"strict_judge": 1.0, "judge": 1.0}
    tally.add(no, yes, kept, 0.3)  # took, same person
    tally.add(no, yes, kept, 0.9)  # took, another person
    tally.add(no, {"strict_judge": False, "judge": True}, kept, 0.3)  # the strict judge says it did not take
    tally.add(no, yes, kept, float("nan"))  # dlib missed the returned face
    tally.add_no_face(no)
    s = tally.summary()
    assert s["judge"] == "strict_judge" and s["success"] == pytest.approx(3 / 5)
    assert s["same_person"] == pytest.approx(2 / 5) and s["took_same_person"] == pytest.approx(1 / 5)


def test_face_sample_is_seeded_and_takes_only_faces_eligible_for_the_edit() -> None:
    labels = torch.tensor([[1, 0], [0, 0], [1, 1], [0, 1], [1, 0], [0, 0]])
    cells = choose_faces(labels, ("a", "b"), 2, seed=3)
    assert cells == choose_faces(labels, ("a", "b"), 2, seed=3)
    for (name, direction), faces in cells.items():
        column = ("a", "b").index(name)
        assert len(faces) == 2 and all(bool(labels[i, column]) != DIRECTIONS[direction] for i in faces)
    # a larger sample starts with the smaller one (the sheets' first faces do not depend on --faces)
    bigger = choose_faces(labels, ("a", "b"), 3, seed=3)
    assert all(bigger[c][:2] == f for c, f in cells.items())


def test_only_held_out_runs_with_the_apps_blend_publish_their_figures(weights_dir: Path) -> None:
    def args(*extra: str) -> list[str]:
        return ["--weights", str(weights_dir), "--data", "d", "--out", "o", *extra]
    assert publishes(parse_args(args("--split", "test")))
    assert not publishes(parse_args(args("--split", "val")))  # where paste settings are picked
    assert not publishes(parse_args(args("--split", "test", "--blend", "0.25:1:0.05")))
    assert not publishes(parse_args(args("--split", "test", "--weights", "someone/model")))


def test_headline_counts_only_the_strict_judge_where_its_part_reads_the_attribute(tmp_path: Path,
                                                                                   weights_dir: Path) -> None:
    """Smiling, read by the strict judge's mouth part: its headline is the strict judge's even where
    judge/ reads fewer edits as taken; other attributes: the lower of both."""
    _, strict = evaluation_folder(tmp_path, weights_dir)
    judges = {"strict_judge": StrictFrameJudge(str(strict)), "judge": object()}
    assert headline_judges(judges, "Smiling") == ("strict_judge",)
    assert headline_judges(judges, "Eyeglasses") == ("strict_judge", "judge")
    assert headline_judges({"judge": object()}, "Smiling") == ("judge",)
    tally = CellTally(judges=("strict_judge", "judge"), headline_from=("strict_judge",))
    kept = {"strict_judge": 1.0, "judge": 1.0}
    for _ in range(2):
        tally.add({"strict_judge": False, "judge": False}, {"strict_judge": True, "judge": False}, kept, 0.3)
    s = tally.summary()
    assert s["judge"] == "strict_judge" and s["success"] == 1.0 and s["by_judge"]["judge"]["success"] == 0.0
