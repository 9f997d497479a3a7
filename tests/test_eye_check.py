"""The blind eye check end to end on the fixture (real MTCNN, real editor, both judges): the grids hide
which photo is an edit, and the tally counts what a rater answered."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from evaluation.eye_check import GRID_PHOTOS, checkpoint_digest, combine, markdown, tally
from tests.conftest import REPO, evaluation_folder

FACES = 2


def run(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evaluation.eye_check", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})


@pytest.fixture(scope="module")
def made(celeba_tiny: Path, weights_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("eye_check")
    weights, strict = evaluation_folder(tmp, weights_dir)
    out = tmp / "out"
    r = run(["make", "--weights", str(weights), "--data", str(celeba_tiny), "--split", "all", "--out", str(out),
             "--faces", str(FACES), "--strict-judge", str(strict), "--threads", "1"])
    assert r.returncode == 0, r.stderr[-4000:]
    return {"out": out, "weights": weights, "key": json.loads((out / "key.json").read_text())}


def truth(key: dict) -> dict[str, list[int]]:
    """Ratings that say yes exactly where the photo shows the attribute by CelebA's label, and where an
    edit asked for it."""
    return {a: [i["number"] for i in e["items"] if "number" in i
                and (i["label"] if i["kind"] == "photo" else i["kind"] == "edit_on")]
            for a, e in key["attributes"].items()}


@pytest.mark.slow
def test_key_names_the_judges_each_headline_counts(made: dict) -> None:
    """The stand-in strict judge reads Smiling with a mouth part: only it counts for Smiling."""
    attributes = made["key"]["attributes"]
    assert attributes["Smiling"]["headline_judges"] == ["strict_judge"]
    assert attributes["Eyeglasses"]["headline_judges"] == ["strict_judge", "judge"]


def test_every_rater_reads_the_same_instructions_beside_the_grids(made: dict) -> None:
    from evaluation.eye_check import EDITED_QUESTION, INSTRUCTIONS_NAME, QUESTIONS

    text = (made["out"] / "grids" / INSTRUCTIONS_NAME).read_text()
    for attribute, entry in made["key"]["attributes"].items():
        count = sum("number" in i for i in entry["items"])
        assert f"## {attribute} ({attribute}_1.png: numbers 1 to {count})" in text
        assert QUESTIONS[attribute] in text
    assert text.count(EDITED_QUESTION) == 2
    answer = json.loads(text.split("```json\n")[1].split("\n```")[0])
    assert set(answer) == {"Smiling", "Eyeglasses", "edited"} and set(answer["edited"]) == {"Smiling", "Eyeglasses"}
    assert "key.json" not in text  # nothing points a rater at the answers
    assert all(isinstance(n, int) for n in answer["Smiling"] + answer["edited"]["Smiling"])


def test_numbers_may_come_as_text_but_nothing_else() -> None:
    from evaluation.eye_check import numbers_of

    assert numbers_of([3, "8", " 12"]) == {3, 8, 12}
    for bad in (["three"], [1.5], [True], [None]):
        with pytest.raises(ValueError, match="is not a number"):
            numbers_of(bad)


def test_grids_mix_edits_among_photos_without_telling_which(made: dict) -> None:
    key, out = made["key"], made["out"]
    assert list(key["attributes"]) == ["Smiling", "Eyeglasses"]
    for attribute, entry in key["attributes"].items():
        kinds = [i["kind"] for i in entry["items"]]
        assert kinds.count("photo") == 2 * FACES
        assert kinds.count("edit_on") == kinds.count("edit_off") == FACES
        numbered = [i for i in entry["items"] if "number" in i]
        assert all(not i.get("no_face") for i in numbered)  # MTCNN finds every fixture face
        assert sorted(i["number"] for i in numbered) == list(range(1, len(numbered) + 1))
        assert [i["number"] for i in numbered] != list(range(1, len(numbered) + 1))  # shuffled
        assert len(entry["grids"]) == -(-len(numbered) // GRID_PHOTOS)
        for i in numbered:
            assert set(i["read"]) == {"strict_judge", "judge"}
        with Image.open(out / entry["grids"][0]) as im:
            assert im.width > 4 * 178  # four full frames a row
    # the same faces as the user-level sample's first ones: off -> on faces lack the attribute
    for entry in key["attributes"].values():
        assert all(not i["label"] for i in entry["items"] if i["kind"] == "edit_on")
        assert all(i["label"] for i in entry["items"] if i["kind"] == "edit_off")


@pytest.mark.slow
def test_score_counts_the_ratings_against_the_key(made: dict, tmp_path: Path) -> None:
    out = made["out"]
    ratings = tmp_path / "ratings.json"
    ratings.write_text(json.dumps(truth(made["key"])))
    r = run(["score", "--out", str(out), "--ratings", str(ratings)])
    assert r.returncode == 0, r.stderr[-2000:]
    check = json.loads((out / "eye_check.json").read_text())
    assert json.loads((made["weights"] / "eye_check.json").read_text()) == check  # the checkpoint's own
    results = check["results"]
    for attribute in ("Smiling", "Eyeglasses"):
        assert results[attribute]["on"]["eye"] == results[attribute]["off"]["eye"] == 1.0
        assert results[attribute]["photos"]["eye_agrees_with_labels"] == 1.0
    assert "| Smiling | off → on | 2 | **100.0 %** |" in (out / "eye_check.md").read_text()
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"Smiling": [], "Eyeglasses": []}))
    r = run(["score", "--out", str(out), "--ratings", f"right={ratings}", f"nobody={empty}"])
    assert r.returncode == 0, r.stderr[-2000:]
    check = json.loads((out / "eye_check.json").read_text())
    assert check["raters"] == ["right", "nobody"]
    on, off = check["results"]["Smiling"]["on"], check["results"]["Smiling"]["off"]
    assert on["eye_by_rater"] == {"right": 1.0, "nobody": 0.0} and on["eye"] == 0.5  # nobody sees an added smile
    assert off["eye"] == 1.0  # and both see every removed one gone
    assert "| by eye (mean) | right | nobody |" in (out / "eye_check.md").read_text()
    ratings.write_text(json.dumps({"Smiling": [999], "Eyeglasses": []}))
    r = run(["score", "--out", str(out), "--ratings", str(ratings)])
    assert r.returncode != 0 and "not on its grids" in r.stderr


def test_missing_folders_are_a_clear_error(celeba_tiny: Path, weights_dir: Path, tmp_path: Path) -> None:
    r = run(["make", "--weights", str(weights_dir), "--data", str(celeba_tiny), "--out", str(tmp_path / "out"),
             "--strict-judge", str(tmp_path / "no_judge")])
    assert r.returncode != 0 and r.stderr.strip().splitlines()[-1].startswith("error:") and "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()


def test_tally_reads_each_direction_its_own_way() -> None:
    """Off -> on takes where the rater says yes; on -> off where the rater says no; a face the editor
    missed never takes; the judges are tallied on the same edits."""
    items = [
        {"kind": "edit_on", "number": 1, "no_face": False, "label": False, "read": {"judge": True}},
        {"kind": "edit_on", "number": 2, "no_face": False, "label": False, "read": {"judge": True}},
        {"kind": "edit_on", "no_face": True, "label": False},
        {"kind": "edit_off", "number": 3, "no_face": False, "label": True, "read": {"judge": True}},
        {"kind": "photo", "number": 4, "label": True},
        {"kind": "photo", "number": 5, "label": False},
    ]
    key = {"weights": "w", "split": "test", "seed": 0, "faces": 3, "judges": ["judge"],
           "attributes": {"Smiling": {"grids": [], "items": items}}}
    results = tally(key, {"Smiling": [1, 3, 4]})
    r = results["Smiling"]
    assert r["on"]["eye"] == pytest.approx(1 / 3) and r["on"]["judges"]["judge"] == pytest.approx(2 / 3)
    assert r["off"]["eye"] == 0.0 and r["off"]["judges"]["judge"] == 0.0
    assert r["photos"]["eye_agrees_with_labels"] == 1.0
    assert "+33.3 points" in markdown({**key, "results": results})
    with pytest.raises(ValueError, match="no ratings"):
        tally(key, {})


def test_an_edit_counts_only_if_it_took_and_looks_unedited() -> None:
    """The second blind question: an edit flagged as edited or retouched does not count, even where it
    took; untouched photos not flagged are the control; raters without the answers leave it out."""
    items = [
        {"kind": "edit_on", "number": 1, "no_face": False, "label": False, "read": {"judge": True}},
        {"kind": "edit_on", "number": 2, "no_face": False, "label": False, "read": {"judge": True}},
        {"kind": "edit_on", "number": 6, "no_face": False, "label": False, "read": {"judge": False}},
        {"kind": "edit_off", "number": 3, "no_face": False, "label": True, "read": {"judge": False}},
        {"kind": "photo", "number": 4, "label": True},
        {"kind": "photo", "number": 5, "label": False},
    ]
    key = {"weights": "w", "split": "test", "seed": 0, "faces": 3, "judges": ["judge"],
           "attributes": {"Smiling": {"grids": [], "items": items}}}
    # 1 and 2 took (smiling), 1 is flagged; 6 did not take and is not flagged; 3 took (not smiling), unflagged
    rated = {"Smiling": [1, 2, 4], "edited": {"Smiling": [1, 5]}}
    r = tally(key, rated)["Smiling"]
    assert r["on"]["eye"] == pytest.approx(2 / 3) and r["on"]["took_unedited"] == pytest.approx(1 / 3)
    assert r["off"]["took_unedited"] == 1.0
    assert r["photos"]["unflagged"] == 0.5
    assert tally(key, {"Smiling": [1, 2, 4]})["Smiling"]["on"]["took_unedited"] is None
    both = combine({"A": tally(key, rated), "B": tally(key, {"Smiling": [1, 2, 4], "edited": {"Smiling": []}}),
                    "C": tally(key, {"Smiling": [1, 2, 4]})})
    on = both["Smiling"]["on"]
    assert on["took_unedited_by_rater"] == {"A": pytest.approx(1 / 3), "B": pytest.approx(2 / 3), "C": None}
    assert on["took_unedited"] == pytest.approx(0.5) and both["Smiling"]["photos"]["unflagged"] == 0.75
    text = markdown({**key, "raters": ["A", "B", "C"], "results": both})
    assert "took, looks unedited" in text and "not flagged as edited: Smiling 75.0 %" in text
    assert "who answered whether a photo looks edited: A, B)" in text
    with pytest.raises(ValueError, match="not on its grids"):
        tally(key, {"Smiling": [], "edited": {"Smiling": [99]}})


def test_each_composition_is_shuffled_in_its_own_order(tmp_path: Path) -> None:
    """The whole-face weights alone keep their digest (committed ratings stay valid); region editors'
    weights and configs change it."""
    import hashlib

    (tmp_path / "model.safetensors").write_bytes(b"whole")
    alone = checkpoint_digest(str(tmp_path))
    assert alone == hashlib.sha256(b"whole").hexdigest()
    (tmp_path / "mouth").mkdir()
    (tmp_path / "mouth" / "model.safetensors").write_bytes(b"mouth")
    (tmp_path / "mouth" / "config.json").write_text("{}")
    composed = checkpoint_digest(str(tmp_path))
    (tmp_path / "mouth" / "config.json").write_text('{"follows": {}}')
    assert len({alone, composed, checkpoint_digest(str(tmp_path))}) == 3
    assert checkpoint_digest("someone/editor") == "someone/editor"
