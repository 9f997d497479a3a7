"""The strict judge: the shipped strict_judge/ weights, its API, its reading of real fixture faces,
the painted fakes (glasses smudged across the eyes, ghosts of real glasses, blurred or darkened
mouths) it must reject, and the softened real glasses it must still read as glasses."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from evaluation.fakes import (
    DONOR_FAKES, FAKE_ATTRIBUTE, FAKES, SOFTENINGS, fooled_rates, make_fake, read_landmarks, report,
)
from evaluation.strict_judge import (
    FRAME_SIZE, REGIONS, Augment, StrictJudge, StrictJudgeConfig, frame_to_input, region_landmarks,
)
from model import DEFAULT_ATTRIBUTES, CheckpointError
from model.preprocessing import LANDMARK_TEMPLATE
from tests.conftest import CELEBA_TINY, REPO
from training.celeba import CelebA

STRICT_JUDGE = REPO / "strict_judge"
GHOST_GLASSES = sorted(k for k in DONOR_FAKES if FAKE_ATTRIBUTE[k] == "Eyeglasses")


@pytest.fixture(scope="module")
def judge() -> StrictJudge:
    return StrictJudge.load(STRICT_JUDGE)


@pytest.fixture(scope="module")
def faces() -> tuple[list[Image.Image], dict[str, torch.Tensor]]:
    """The 12 fixture frames and their labels for the editor's attributes."""
    celeba = CelebA(CELEBA_TINY, "all")
    frames = []
    for name in celeba.names:
        with Image.open(celeba.image_path(name)) as im:
            frames.append(im.convert("RGB"))
    labels = celeba.labels(DEFAULT_ATTRIBUTES)
    return frames, {a: labels[:, i] for i, a in enumerate(DEFAULT_ATTRIBUTES)}


def test_shipped_folder_is_real_safetensors_with_its_figures() -> None:
    assert (STRICT_JUDGE / "model.safetensors").stat().st_size > 1_000_000
    with open(STRICT_JUDGE / "model.safetensors", "rb") as f:
        header = json.loads(f.read(int.from_bytes(f.read(8), "little")))
    assert "head.weight" in header
    metrics = json.loads((STRICT_JUDGE / "metrics.json").read_text())
    for split in ("val", "test"):
        assert set(DEFAULT_ATTRIBUTES) <= set(metrics[split]["balanced_accuracy"])
    fooled = {group: {kind: rates["strict judge"] for kind, rates in by_kind.items()}
              for group, by_kind in metrics["fakes"]["fooled"].items()}
    assert metrics["fakes"]["split"] == "test"
    assert all(fooled["no glasses"][kind] <= 0.1 for kind in GHOST_GLASSES), fooled  # ghosts are not glasses
    assert fooled["glasses"]["soft_60"] >= 0.9, fooled  # glasses as soft as a decoder draws are
    assert max(fooled["no glasses"]["eye_band"], fooled["no glasses"]["eye_blur"]) <= 0.012, fooled
    test = metrics["test"]["balanced_accuracy"]
    assert test["Eyeglasses"] >= 0.94 and test["Smiling"] >= 0.9, test
    readme = (STRICT_JUDGE / "README.md").read_text()
    assert "| **Eyeglasses** |" in readme and "eye_band" in readme and "ghost_glasses" in readme


def test_api(judge: StrictJudge, faces) -> None:
    frames, _ = faces
    assert StrictJudge.frame_size == FRAME_SIZE == (178, 218)
    assert isinstance(judge.attributes, tuple) and set(DEFAULT_ATTRIBUTES) <= set(judge.attributes)
    p = judge.predict_proba(frames[:3])
    assert p.shape == (3, len(judge.attributes)) and p.dtype == torch.float32
    assert ((p >= 0) & (p <= 1)).all()
    assert judge.predict_proba([]).shape == (0, len(judge.attributes))
    # any size of the frame's aspect is resized: twice the size reads (almost) the same
    big = [f.resize((356, 436), Image.BICUBIC) for f in frames[:3]]
    assert (judge.predict_proba(big) - p).abs().max() < 0.15
    with pytest.raises(ValueError, match="aligned like a CelebA frame"):
        judge.predict_proba([Image.new("RGB", (200, 200))])


def test_reads_the_fixture_faces_labels(judge: StrictJudge, faces) -> None:
    frames, labels = faces
    p = judge.predict_proba(frames)
    wrong = {a: int(((p[:, judge.attributes.index(a)] > 0.5).float() != labels[a]).sum()) for a in DEFAULT_ATTRIBUTES}
    assert wrong["Eyeglasses"] == 0 and wrong["Smiling"] <= 2, wrong
    assert sum(wrong.values()) <= 0.15 * len(frames) * len(DEFAULT_ATTRIBUTES), wrong


def with_and_without_glasses(faces) -> tuple[list[Image.Image], list[Image.Image]]:
    frames, labels = faces
    return ([f for f, y in zip(frames, labels["Eyeglasses"]) if y == 1],
            [f for f, y in zip(frames, labels["Eyeglasses"]) if y == 0])


@pytest.mark.parametrize("kind", sorted(set(FAKES) - DONOR_FAKES))
def test_rejects_painted_fakes(judge: StrictJudge, faces, kind: str) -> None:
    """Fakes of the fixture faces without the attribute are read as without it on >= 90 % of them."""
    frames, labels = faces
    attribute = FAKE_ATTRIBUTE[kind]
    chosen = [f for f, y in zip(frames, labels[attribute]) if y == 0]
    assert len(chosen) >= 6
    p = judge.predict_proba([make_fake(f, kind) for f in chosen])[:, judge.attributes.index(attribute)]
    assert (p <= 0.5).float().mean() >= 0.9, p


@pytest.mark.parametrize("kind", sorted(DONOR_FAKES))
def test_rejects_ghosts(judge: StrictJudge, faces, kind: str) -> None:
    """Every fixture face with the attribute (glasses, a smile) made into a ghost of it on every
    fixture face without it: read as without it on >= 90 % of the pairs."""
    frames, labels = faces
    attribute = FAKE_ATTRIBUTE[kind]
    donors = [f for f, y in zip(frames, labels[attribute]) if y == 1]
    chosen = [f for f, y in zip(frames, labels[attribute]) if y == 0]
    assert len(donors) >= 4 and len(chosen) >= 6
    fakes = [make_fake(f, kind, donor=d) for f in chosen for d in donors]
    p = judge.predict_proba(fakes)[:, judge.attributes.index(attribute)]
    assert (p <= 0.5).float().mean() >= 0.9, p


def test_reads_softened_glasses_as_glasses(judge: StrictJudge, faces) -> None:
    """Real glasses as soft as a decoder draws them (the face 60 px wide, and back up) are still glasses."""
    chosen, _ = with_and_without_glasses(faces)
    p = judge.predict_proba([make_fake(f, "soft_60") for f in chosen])[:, judge.attributes.index("Eyeglasses")]
    assert (p > 0.5).float().mean() >= 0.9, p


def test_reads_softened_smiles_like_the_originals(judge: StrictJudge, faces) -> None:
    """Real smiles as soft as a decoder draws them (the face 60 or 40 px wide) read as the untouched ones."""
    frames, labels = faces
    chosen = [f for f, y in zip(frames, labels["Smiling"]) if y == 1]
    column = judge.attributes.index("Smiling")
    plain = judge.predict_proba(chosen)[:, column] > 0.5
    assert plain.float().mean() >= 0.8, plain
    for kind in ("soft_60", "soft_40"):
        soft = judge.predict_proba([make_fake(f, kind) for f in chosen])[:, column] > 0.5
        assert torch.equal(soft, plain), (kind, soft, plain)


def test_fooled_rates_give_each_frame_a_donor(faces) -> None:
    donors, chosen = with_and_without_glasses(faces)
    seen = []

    def reader(frames):
        seen.extend(frames)
        return {"Eyeglasses": torch.zeros(len(frames))}

    rates = fooled_rates(chosen, {"r": reader}, ("ghost_glasses",), donors=donors[:2])
    assert rates == {"none": {"r": 0.0}, "ghost_glasses": {"r": 0.0}} and len(seen) == 2 * len(chosen)
    expected = make_fake(chosen[3], "ghost_glasses", donor=donors[1])
    assert np.array_equal(np.asarray(seen[len(chosen) + 3]), np.asarray(expected))
    with pytest.raises(ValueError, match="donor"):
        fooled_rates(chosen, {"r": reader}, ("ghost_glasses",))


def test_report_makes_ghosts_of_the_same_splits_glasses_and_smiles() -> None:
    def reader(frames):
        return {"Eyeglasses": torch.ones(len(frames)), "Smiling": torch.zeros(len(frames))}

    result = report(CELEBA_TINY, "test", 10, {"r": reader})
    assert result["faces"] == {"no glasses": 2, "glasses": 2, "not smiling": 2, "smiling": 2}
    assert list(result["fooled"]["no glasses"]) == ["none", "eye_band", "eye_blur", *GHOST_GLASSES]
    assert list(result["fooled"]["not smiling"]) == ["none", "mouth_blur", "mouth_dark", "ghost_smile"]
    assert list(result["fooled"]["glasses"]) == list(result["fooled"]["smiling"]) == ["none", *SOFTENINGS]
    assert "| glasses (2) | soft_60 | 100.0 % |" in result["table"]
    assert "| smiling (2) | soft_60 | 0.0 % |" in result["table"]  # read as Smiling, not Eyeglasses


def test_fakes_paint_the_right_place(faces) -> None:
    frame = faces[0][0]
    donor = with_and_without_glasses(faces)[0][0]
    (lx, ly), (rx, ry), _, (mx0, my0), (mx1, my1) = LANDMARK_TEMPLATE.round().astype(int)
    orig = np.asarray(frame, dtype=np.float32)
    for kind in FAKES:
        diff = np.abs(np.asarray(make_fake(frame, kind, donor=donor), dtype=np.float32) - orig).mean(2)
        eyes, mouth = diff[ly - 6:ly + 6, lx:rx].mean(), diff[my0 - 6:my0 + 6, mx0:mx1].mean()
        assert diff[:40].max() <= 1 and diff[-15:].max() <= 1  # hair top and chest untouched
        if FAKE_ATTRIBUTE[kind] == "Eyeglasses":
            assert eyes > 8 and mouth < 1, (kind, eyes, mouth)
        else:
            assert mouth > 8 and eyes < 1, (kind, eyes, mouth)
    band = np.asarray(make_fake(frame, "eye_band"), dtype=np.float32)
    assert band[ly - 4:ly + 4, lx - 4:lx + 4].mean() < 0.75 * orig[ly - 4:ly + 4, lx - 4:lx + 4].mean()
    lower = LANDMARK_TEMPLATE + np.array([0, 40])  # a face's own landmarks move the smudge with them
    moved = np.abs(np.asarray(make_fake(frame, "eye_band", lower), dtype=np.float32) - orig).mean(2)
    assert moved[ly - 6:ly + 6, lx:rx].mean() < 1 and moved[ly + 34:ly + 46, lx:rx].mean() > 8
    with pytest.raises(ValueError, match="unknown fake"):
        make_fake(frame, "halo")
    with pytest.raises(ValueError, match="needs a donor"):
        make_fake(frame, "ghost_glasses")


def test_ghost_glasses_are_the_donors_blurred_see_through_eyes(faces) -> None:
    donors, chosen = with_and_without_glasses(faces)
    frame, donor = chosen[0], donors[0]
    (lx, ly), (rx, _) = LANDMARK_TEMPLATE[:2].round().astype(int)
    eyes = np.s_[ly - 6:ly + 6, lx:rx]
    orig, don = (np.asarray(im, dtype=np.float32) for im in (frame, donor))
    plain = np.asarray(make_fake(frame, "ghost_glasses", donor=donor), dtype=np.float32)
    dark = np.asarray(make_fake(frame, "ghost_glasses_dark", donor=donor), dtype=np.float32)
    # half way between the face and the donor's (blurred) eyes, neither the one nor the other
    assert np.abs(plain[eyes] - orig[eyes]).mean() > 8 and np.abs(plain[eyes] - don[eyes]).mean() > 8
    assert np.abs(plain[eyes] - (orig[eyes] + don[eyes]) / 2).mean() < np.abs(plain[eyes] - don[eyes]).mean()
    assert dark[eyes].mean() < plain[eyes].mean()
    soft = np.asarray(make_fake(donor, "soft_40"), dtype=np.float32)
    assert soft.shape == don.shape and 2 < np.abs(soft - don).mean() < 20


def test_ghost_smile_is_the_donors_blurred_see_through_mouth(faces) -> None:
    frames, labels = faces
    frame = next(f for f, y in zip(frames, labels["Smiling"]) if y == 0)
    donor = next(f for f, y in zip(frames, labels["Smiling"]) if y == 1)
    (lx, ly), (rx, _), _, (mx0, my0), (mx1, _) = LANDMARK_TEMPLATE.round().astype(int)
    mouth, eyes = np.s_[my0 - 5:my0 + 5, mx0:mx1], np.s_[ly - 6:ly + 6, lx:rx]
    orig, don = (np.asarray(im, dtype=np.float32) for im in (frame, donor))
    ghost = np.asarray(make_fake(frame, "ghost_smile", donor=donor), dtype=np.float32)
    assert np.abs(ghost[mouth] - orig[mouth]).mean() > 8 and np.abs(ghost[mouth] - don[mouth]).mean() > 4
    blend = 0.3 * orig[mouth] + 0.7 * don[mouth]  # the ghost's opacity, before the donor's blur
    assert np.abs(ghost[mouth] - blend).mean() < np.abs(ghost[mouth] - don[mouth]).mean()
    assert np.abs(ghost[eyes] - orig[eyes]).max() == 0
    with pytest.raises(ValueError, match="needs a donor face with Smiling"):
        make_fake(frame, "ghost_smile")


def test_landmarks_file_is_read_when_present(tmp_path: Path) -> None:
    assert read_landmarks(CELEBA_TINY) is None
    (tmp_path / "list_landmarks_align_celeba.txt").write_text(
        "1\nlefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y rightmouth_x "
        "rightmouth_y\n000001.jpg 69 109 106 113 77 142 73 152 108 154\n")
    lm = read_landmarks(tmp_path)
    assert lm["000001.jpg"].shape == (5, 2) and lm["000001.jpg"][4].tolist() == [108, 154]


def test_frame_to_input_takes_the_central_square() -> None:
    frame = Image.new("RGB", FRAME_SIZE)
    frame.paste((255, 0, 0), (0, 0, 178, 20))      # above the square: not read
    frame.paste((0, 255, 0), (0, 20, 178, 198))    # the square
    x = frame_to_input(frame, 128)
    assert x.shape == (3, 128, 128) and x.dtype == torch.uint8
    assert x[1].float().mean() > 250 and x[0].float().max() < 5
    eyes = region_landmarks(144)[:2]
    assert np.allclose(eyes[:, 1], (LANDMARK_TEMPLATE[:2, 1] - 20) * 144 / 178)


def test_augment_keeps_shape_and_smudges_only_negatives() -> None:
    x = frame_to_input(Image.open(CELEBA_TINY / "img_align_celeba" / "000001.jpg"), 144)
    aug = Augment(128, 144, occlusion=1.0, seed=0)
    out = aug(x, no_glasses=True, not_smiling=True)
    assert out.shape == (3, 128, 128) and out.dtype == torch.float32 and 0 <= out.min() <= out.max() <= 1
    assert not torch.equal(aug.smudge(x, True, False), x)
    smudged = []
    aug.smudge = lambda image, eyes, mouth: smudged.append((eyes, mouth)) or image
    for _ in range(20):
        aug(x, no_glasses=False, not_smiling=False)
    aug(x, no_glasses=True, not_smiling=False)
    assert smudged == [(True, False)]  # positives are never smudged; negatives with chance `occlusion`


def face_and_donors() -> tuple[torch.Tensor, torch.Tensor]:
    """A fixture face and two donor faces, as judge inputs at the 144 px cache size."""
    def load(name: str) -> torch.Tensor:
        return frame_to_input(Image.open(CELEBA_TINY / "img_align_celeba" / name), 144)
    return load("000001.jpg"), torch.stack([load(n) for n in ("000375.jpg", "000053.jpg")])


def test_augment_paints_ghosts_of_donors_on_negatives_only() -> None:
    x, donors = face_and_donors()
    aug = Augment(128, 144, occlusion=1.0, seed=0, donors=donors, ghosts=1.0)
    ghost = aug.ghost(x)
    assert ghost.shape == x.shape and ghost.dtype == torch.uint8 and not torch.equal(ghost, x)
    eyes = region_landmarks(144)[:2].round().astype(int)
    top, left, right = eyes[:, 1].min(), eyes[0, 0], eyes[1, 0]
    assert (ghost.float() - x.float()).abs()[:, top - 5:top + 5, left:right].mean() > 5
    assert torch.equal(ghost[:, :25], x[:, :25])  # hair top untouched
    painted = []
    aug.ghost = lambda image: painted.append("ghost") or image
    aug.smudge = lambda image, eyes, mouth: painted.append((eyes, mouth)) or image
    aug(x, no_glasses=False, not_smiling=False)
    aug(x, no_glasses=True, not_smiling=False)
    assert painted == ["ghost"]  # a ghost instead of an eye smudge, never on a face with glasses
    assert Augment(128, 144, occlusion=0.3, donors=donors[:0], ghosts=1.0).ghosts == 0


def test_augment_paints_ghost_smiles_on_faces_not_smiling_only() -> None:
    x, donors = face_and_donors()
    aug = Augment(128, 144, occlusion=1.0, seed=0, smile_donors=donors, ghost_smiles=1.0)
    ghost = aug.ghost_smile(x)
    assert ghost.shape == x.shape and ghost.dtype == torch.uint8
    lm = region_landmarks(144).round().astype(int)
    (mx0, my0), (mx1, _) = lm[3], lm[4]
    diff = (ghost.float() - x.float()).abs()
    assert diff[:, my0 - 4:my0 + 4, mx0:mx1].mean() > 5
    assert diff[:, :lm[0, 1] + 5].max() == 0  # eyes and above untouched
    painted = []
    aug.ghost_smile = lambda image: painted.append("ghost smile") or image
    aug.smudge = lambda image, eyes, mouth: painted.append((eyes, mouth)) or image
    aug(x, no_glasses=False, not_smiling=False)
    aug(x, no_glasses=False, not_smiling=True)
    assert painted == ["ghost smile"]  # instead of a mouth smudge, never on a smiling face
    assert Augment(128, 144, occlusion=0.3, smile_donors=donors[:0], ghost_smiles=1.0).ghost_smiles == 0


def test_load_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="not a strict judge folder"):
        StrictJudge.load(tmp_path)
    small = StrictJudge(StrictJudgeConfig(widths=(8, 16), blocks=(1, 1), attributes=("Smiling",))).eval()
    small.save(tmp_path / "s")
    x = torch.rand(2, 3, 64, 64)
    assert torch.allclose(StrictJudge.load(tmp_path / "s")(x), small(x), atol=1e-2)
    (tmp_path / "s" / "config.json").write_text(json.dumps({"widths": [8, 32], "blocks": [1, 1]}))
    with pytest.raises(CheckpointError, match="does not fit"):
        StrictJudge.load(tmp_path / "s")


def test_frame_to_input_reads_the_mouth_region() -> None:
    frame = Image.new("RGB", FRAME_SIZE)
    left, top, right, bottom = REGIONS["mouth"]
    frame.paste((0, 0, 255), (left, top, right, bottom))
    x = frame_to_input(frame, 64, REGIONS["mouth"])
    assert x.shape == (3, 64, 64) and x[2].float().min() > 250 and x[:2].float().max() < 5
    mouth = region_landmarks(64, REGIONS["mouth"])[3:]
    assert (mouth > 0).all() and (mouth < 64).all()  # both mouth corners inside, eyes not
    assert (region_landmarks(64, REGIONS["mouth"])[:2, 1] < 0).all()
    with pytest.raises(ValueError, match="not a box inside"):
        StrictJudgeConfig(region=(0, 0, 200, 100))


def test_a_part_replaces_the_whole_faces_reading_of_its_attributes(tmp_path: Path, faces) -> None:
    """A judge folder with a mouth part: loading brings the part, whose readings replace the face's for
    its attributes only; the part reads its own region; a broken part is a clear error."""
    frames, _ = faces
    torch.manual_seed(0)
    face = StrictJudge(StrictJudgeConfig(image_size=32, widths=(8, 16), blocks=(1, 1),
                                         attributes=("Smiling", "Eyeglasses"))).eval()
    part = StrictJudge(StrictJudgeConfig(image_size=24, widths=(8,), blocks=(1,), attributes=("Smiling",),
                                         region=REGIONS["mouth"])).eval()
    with torch.no_grad():
        part.head.bias.fill_(-20.0)  # the part reads "not smiling" everywhere
        face.head.bias.fill_(20.0)   # the face reads both attributes everywhere
    face.save(tmp_path / "j")
    part.save(tmp_path / "j" / "mouth")
    judge = StrictJudge.load(tmp_path / "j")
    assert set(judge.parts) == {"mouth"} and judge.read_by() == {"Smiling": "mouth", "Eyeglasses": "face"}
    assert judge.state_dict().keys() == face.state_dict().keys()  # the part is not in the face's weights
    p = judge.predict_proba(frames[:3])
    assert p.shape == (3, 2) and (p[:, 0] < 0.01).all() and (p[:, 1] > 0.99).all()
    seen = []
    judge.parts["mouth"].predict_tensor = lambda x, batch=100: seen.append(x) or torch.zeros(len(x), 1)
    judge.predict_proba(frames[:1])
    assert torch.equal(seen[0][0], frame_to_input(frames[0], 24, REGIONS["mouth"]))
    (tmp_path / "j" / "mouth" / "model.safetensors").write_bytes(b"broken")
    with pytest.raises(CheckpointError):
        StrictJudge.load(tmp_path / "j")


def test_shipped_judge_reads_smiles_off_the_mouth_and_glasses_off_the_eyes(judge: StrictJudge) -> None:
    assert judge.read_by()["Smiling"] == "mouth" and judge.read_by()["Eyeglasses"] == "eyes"
    assert judge.read_by()["Bangs"] == "face"
    readme = (STRICT_JUDGE / "README.md").read_text()
    assert "## Parts" in readme
    for part, attribute in (("mouth", "Smiling"), ("eyes", "Eyeglasses")):
        metrics = json.loads((STRICT_JUDGE / part / "metrics.json").read_text())
        assert metrics["region"] == part and metrics["test"]["balanced_accuracy"][attribute] >= 0.9
        assert f"the {part} part" in (STRICT_JUDGE / part / "README.md").read_text() and f"`{part}/`" in readme


def test_augment_half_removes_glasses_of_positives_only() -> None:
    """A face without glasses' blurred eyes over the eye band of a face with glasses (the rims outside
    stay), only on faces with glasses."""
    x, donors = face_and_donors()
    aug = Augment(128, 144, occlusion=0.0, seed=0, bare_donors=donors, half_removed=1.0)
    half = aug.half_remove(x)
    assert half.shape == x.shape and half.dtype == torch.uint8
    eyes = region_landmarks(144)[:2].round().astype(int)
    diff = (half.float() - x.float()).abs()
    assert diff[:, eyes[0, 1] - 3:eyes[0, 1] + 3, eyes[0, 0] - 3:eyes[1, 0] + 3].mean() > 5
    assert diff[:, eyes[0, 1] + 30:].max() == 0 and diff[:, :eyes[0, 1] - 30].max() == 0  # a band, not the face
    painted = []
    aug.half_remove = lambda image: painted.append("half") or image
    aug(x, no_glasses=True, not_smiling=False)
    aug(x, no_glasses=False, not_smiling=False, glasses=True)
    assert painted == ["half"]  # only on faces with glasses, whose label stays "glasses"
    assert Augment(128, 144, occlusion=0.0, bare_donors=donors[:0], half_removed=1.0).half_removed == 0


def test_a_part_must_go_into_the_whole_face_judges_folder(tmp_path: Path) -> None:
    from evaluation.strict_judge import main

    with pytest.raises(SystemExit, match="folder named mouth"):
        main(["--data", str(CELEBA_TINY), "--out", str(tmp_path / "elsewhere"), "--region", "mouth"])


def test_training_a_judge_and_a_part_on_the_fixture(tmp_path: Path) -> None:
    """One epoch each on the 12 fixture faces: the whole face with every augmentation, then an eyes
    part in its sub-folder, which loads with it and gets a line in its README."""
    from evaluation.strict_judge import main

    common = ["--data", str(CELEBA_TINY), "--epochs", "1", "--batch-size", "2", "--threads", "1",
              "--cache-dir", str(tmp_path / "cache")]
    main([*common, "--out", str(tmp_path / "j"), "--ghosts", "0.5", "--ghost-smiles", "0.5", "--half-removed", "0.5"])
    report = main([*common, "--out", str(tmp_path / "j" / "eyes"), "--region", "eyes", "--attributes", "Eyeglasses",
                   "--image-size", "48", "--half-removed", "0.5"])
    assert report["region"] == "eyes" and report["bare_donors"] > 0 and report["smile_donors"] == 0
    judge = StrictJudge.load(tmp_path / "j")
    assert judge.read_by()["Eyeglasses"] == "eyes" and judge.parts["eyes"].config.image_size == 48
    assert "`eyes/`" in (tmp_path / "j" / "README.md").read_text()
