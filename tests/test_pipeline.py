"""The editing pipeline on whole photos: edits stay inside the faces, the rest of the photo is untouched;
the edit checks (strict judge, dlib) read the returned photo."""
import logging
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from model.edit_check import STRICT_JUDGE_ENV, EditChecker, warp_to_frame
from model.identity import FaceEmbedder
from model.ifcvae import CheckpointError
from model.images import load_image
from model.paste import (ATTRIBUTE_REGIONS, Blend, add_change, crop_footprint, face_mask, focus_region,
                         paste_into, replace_weight)
from model.pipeline import Analysis, FaceEditor, NoFaceError
from model.preprocessing import LANDMARK_TEMPLATE
from model.strict_judge import SHIPPED_STRICT_JUDGE, StrictJudge
from tests.conftest import CELEBA_TINY
from training.celeba import CelebA

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def portrait(face_editor: FaceEditor) -> Analysis:
    return face_editor.analyze(load_image(EXAMPLES / "portrait.jpg"))


@pytest.fixture(scope="module")
def group(face_editor: FaceEditor) -> Analysis:
    return face_editor.analyze(load_image(EXAMPLES / "group.jpg"))


def flip(editor: FaceEditor, analysis: Analysis, face: int = 0) -> dict[str, float]:
    """Every attribute set to the opposite of what the model reads on the face: a large edit."""
    return {a: float(p < 0.5) for a, p in zip(editor.attributes, analysis.probs[face].tolist())}


def changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a != b).any(axis=-1)


def footprint_mask(analysis: Analysis, face: int) -> np.ndarray:
    """Pixels of the photo covered by this face's aligned crop."""
    mask = np.zeros(analysis.image.shape[:2], bool)
    x0, y0, x1, y1 = crop_footprint(analysis.faces[face].matrix, analysis.faces[face].size,
                                    analysis.image.shape)
    mask[y0:y1, x0:x1] = True
    return mask


def test_analysis(portrait: Analysis, face_editor: FaceEditor) -> None:
    assert len(portrait.faces) == 1
    s, a = face_editor.image_size, len(face_editor.attributes)
    assert portrait.inputs.shape == (1, 3, s, s) and portrait.reconstructions.shape == (1, 3, s, s)
    assert portrait.probs.shape == (1, a) and ((portrait.probs >= 0) & (portrait.probs <= 1)).all()
    assert portrait.faces[0].size > 300  # the face's own resolution, for pasting back


def test_no_change_leaves_the_photo_identical(portrait: Analysis, face_editor: FaceEditor) -> None:
    result = face_editor.edit(portrait, {})
    assert np.array_equal(result.image, portrait.image)


@pytest.mark.parametrize("paste", ["detail", "plain"])
def test_edit_changes_the_face_and_nothing_else(portrait: Analysis, face_editor: FaceEditor, paste: str) -> None:
    result = face_editor.edit(portrait, flip(face_editor, portrait), paste=paste)
    assert result.image.shape == portrait.image.shape and result.image.dtype == np.uint8
    diff = changed(result.image, portrait.image)
    inside = footprint_mask(portrait, 0)
    assert not diff[~inside].any()  # outside the face's crop: every pixel as it was
    assert diff[inside].mean() > 0.05  # inside: the face moved
    # the feathered mask leaves the crop's border untouched too (no seam)
    x0, y0, x1, y1 = crop_footprint(portrait.faces[0].matrix, portrait.faces[0].size, portrait.image.shape)
    assert not diff[y0:y0 + 3].any() and not diff[:, x0:x0 + 3].any()


def test_detail_paste_keeps_the_photo_sharper_than_plain(portrait: Analysis, face_editor: FaceEditor) -> None:
    """With the detail paste, an edit adds a change to the photo; the plain paste replaces the face by the
    upsampled 64 x 64 decode, which loses the photo's fine detail."""
    changes = {face_editor.attributes[0]: float(portrait.probs[0, 0] < 0.5)}
    detail = face_editor.edit(portrait, changes, paste="detail").image.astype(float)
    plain = face_editor.edit(portrait, changes, paste="plain").image.astype(float)
    inside = footprint_mask(portrait, 0)

    def high_freq(img: np.ndarray) -> float:
        return float(np.abs(np.diff(img, axis=1))[inside[:, 1:]].mean())

    assert high_freq(plain) < high_freq(detail)


def test_outputs_and_report(portrait: Analysis, face_editor: FaceEditor) -> None:
    result = face_editor.edit(portrait, {face_editor.attributes[0]: 1.0})
    s, a = face_editor.image_size, len(face_editor.attributes)
    for crops in (result.aligned, result.reconstructed, result.edited):
        assert crops.shape == (1, s, s, 3) and crops.dtype == np.uint8
    assert result.before.shape == result.after.shape == (1, a)
    report = result.report()
    assert [f["face"] for f in report["faces"]] == [0]
    assert report["faces"][0]["box"] == pytest.approx(portrait.faces[0].face.box.tolist(), abs=0.1)
    assert set(report["faces"][0]["before"]) == set(report["faces"][0]["after"]) == set(face_editor.attributes)
    assert result.checks is None  # an editor without checks reports none
    assert report["faces"][0]["checked"] is None and report["faces"][0]["identity"] is None


def test_group_photo_edit_one_face_or_all(group: Analysis, face_editor: FaceEditor) -> None:
    assert len(group.faces) == 2
    only_right = face_editor.edit(group, flip(face_editor, group, 1), faces=[1])
    assert only_right.faces == [1] and only_right.edited.shape[0] == 1
    diff = changed(only_right.image, group.image)
    assert not diff[footprint_mask(group, 0) & ~footprint_mask(group, 1)].any()
    assert diff[footprint_mask(group, 1)].any()
    both = face_editor.edit(group, {face_editor.attributes[0]: 1.0})
    assert both.faces == [0, 1] and both.after.shape[0] == 2


def test_no_face_raises(face_editor: FaceEditor) -> None:
    with pytest.raises(NoFaceError, match="no face found"):
        face_editor.analyze(Image.new("RGB", (400, 300), (90, 120, 160)))


@pytest.mark.parametrize("changes, faces, paste, message", [
    ({"Smile": 1.0}, None, "detail", "unknown attribute 'Smile'"),
    ({"ATTR": float("nan")}, None, "detail", "values must be numbers"),
    ({"ATTR": 7.0}, None, "detail", "values must be numbers"),
    ({}, [3], "detail", "face 3 does not exist"),
    ({}, [], "detail", "no face chosen"),
    ({}, None, "blend", "paste must be one of"),
])
def test_bad_requests_are_refused_clearly(portrait: Analysis, face_editor: FaceEditor, changes: dict,
                                          faces: list | None, paste: str, message: str) -> None:
    changes = {face_editor.attributes[0] if k == "ATTR" else k: v for k, v in changes.items()}
    with pytest.raises(ValueError, match=message):
        face_editor.edit(portrait, changes, faces, paste)  # type: ignore[arg-type]


def test_loading_missing_weights_is_a_checkpoint_error(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError):
        FaceEditor.load(str(tmp_path / "no-such-folder"))


def test_face_mask_is_feathered_and_zero_at_the_border() -> None:
    mask = face_mask(200)
    assert mask[100, 100] == 1.0
    assert mask[0].max() == 0 and mask[-1].max() == 0 and mask[:, 0].max() == 0 and mask[:, -1].max() == 0
    row = mask[100, :100]
    assert (np.diff(row) >= 0).all() and ((row > 0) & (row < 1)).sum() > 10  # a gradual edge


def test_paste_into_touches_only_the_crop_footprint() -> None:
    photo = np.full((300, 400, 3), 100, np.uint8)
    before = photo.copy()
    to_crop = np.array([[0.5, 0.0, -50.0], [0.0, 0.5, -20.0]])  # a 64-pixel crop covers x 100..228, y 40..168
    paste_into(photo, to_crop, np.full((64, 64, 3), 50.0, np.float32), np.zeros((64, 64), np.float32))
    diff = changed(photo, before)
    assert diff[60:150, 120:210].any() and photo[104, 164, 0] == 150
    assert not diff[:38].any() and not diff[170:].any() and not diff[:, :98].any() and not diff[:, 230:].any()


def test_paste_into_replaces_the_photo_where_replace_is_one() -> None:
    photo = np.full((300, 400, 3), 100, np.uint8)
    to_crop = np.array([[0.5, 0.0, -50.0], [0.0, 0.5, -20.0]])
    replace = np.zeros((64, 64), np.float32)
    replace[:, 32:] = 1.0  # the right half of the crop replaces, the left half adds
    paste_into(photo, to_crop, np.full((64, 64, 3), 30.0, np.float32), replace)
    assert photo[104, 140, 0] == 130 and photo[104, 190, 0] == 30


def test_detail_paste_adds_small_changes_and_replaces_large_ones() -> None:
    torch.manual_seed(0)
    reconstruction = torch.full((1, 3, 64, 64), 0.4)
    original = (reconstruction + 0.1 * torch.randn(1, 3, 64, 64)).clamp(0, 1)  # the photo's own detail
    edited = reconstruction.clone()
    edited[..., 26:38, 26:38] = 0.9  # the edit changes the middle of the face a lot...
    edited[..., 46:58, 26:38] = 0.42  # ...and a little below it
    out = add_change(original, reconstruction, edited)
    torch.testing.assert_close(out[..., 29:35, 29:35], edited[..., 29:35, 29:35])  # detail replaced
    kept = out[..., 50:54, 29:35] - 0.02 - original[..., 50:54, 29:35]  # detail kept, change added
    assert kept.abs().max() < 0.25 * (original - reconstruction)[..., 50:54, 29:35].abs().max()
    assert torch.equal(out[..., :22, :], original[..., :22, :])  # unchanged where the edit changed nothing
    plain = add_change(original, reconstruction, edited, Blend(full_at=float("inf")))  # no replacing: pure addition
    torch.testing.assert_close(plain[..., 29:35, 29:35], (original + 0.5)[..., 29:35, 29:35].clamp(0, 1))
    far = add_change(original, reconstruction, torch.ones(1, 3, 64, 64))
    assert far[0, 0, 0, 0] == original[0, 0, 0, 0] and far[0, 0, 32, 32] == 1.0  # the mask: 0 at the corner


def test_the_blend_keeps_the_photos_detail_where_the_change_is_under_its_start() -> None:
    reconstruction = torch.zeros(1, 3, 8, 8)
    edited = torch.linspace(0, 0.3, 8).expand(1, 3, 8, 8)  # the change grows from 0 to 0.3 across the crop
    weight = replace_weight(reconstruction, edited, Blend(start=0.1, full_at=0.2, blur=0))[0, 0, 0]
    torch.testing.assert_close(weight, ((torch.linspace(0, 0.3, 8) - 0.1) / 0.1).clamp(0, 1))
    step = replace_weight(reconstruction, edited, Blend(start=0.1, full_at=0.1, blur=0))[0, 0, 0]
    assert torch.equal(step, (torch.linspace(0, 0.3, 8) > 0.1).float())


def test_focus_regions_replace_more_inside_the_moved_attributes_region_only() -> None:
    reconstruction = torch.zeros(1, 3, 64, 64)
    edited = torch.full((1, 3, 64, 64), 0.08)  # a small change everywhere
    blend = Blend(start=0.05, full_at=0.25, blur=0, focus_start=0.02, focus_full_at=0.06)
    mouth = focus_region(64, {"Smiling": 0.9, "Male": -0.9, "Bangs": 0.1})  # no region for Male; Bangs barely moves
    assert focus_region(64, {"Male": 1.0, "Young": -1.0}) is None
    eyes = ATTRIBUTE_REGIONS["Eyeglasses"][0]
    removing = focus_region(64, {"Eyeglasses": -0.8})[0, 0]
    assert removing[int(64 * eyes[1]), int(64 * eyes[0])] == 1.0  # old frames are replaced outright...
    assert focus_region(64, {"Eyeglasses": 0.8}) is None  # ...drawn ones leave the photo's eyes behind the lenses
    assert torch.equal(mouth, focus_region(64, {"Smiling": -0.3}))
    weight = replace_weight(reconstruction, edited, blend, mouth)[0, 0]
    y, x = (int(64 * f) for f in reversed(ATTRIBUTE_REGIONS["Smiling"][0]))
    assert weight[y, x] == 1.0  # the mouth: replaced outright
    assert torch.allclose(weight[20:30], torch.tensor(0.15))  # the eyes: the global ramp, (0.08 - 0.05) / 0.2
    assert torch.equal(replace_weight(reconstruction, edited, blend), replace_weight(reconstruction, edited, Blend(
        start=0.05, full_at=0.25, blur=0)))  # no region: the focus levels play no part
    assert str(Blend.parse("0.25:1:0.05:0.06:0.02")) == "0.25:1:0.05:0.06:0.02"
    with pytest.raises(ValueError):
        Blend.parse("0.25:1:0.05:0.06")


def test_the_editor_focuses_on_the_attributes_an_edit_moves(portrait: Analysis, face_editor: FaceEditor,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    own = float(portrait.probs[0, face_editor.attributes.index("Smiling")])
    changes = {"Smiling": float(own < 0.5), "Male": float(portrait.probs[0, face_editor.attributes.index("Male")])}
    moves = face_editor.moves(portrait, 0, changes)
    assert abs(moves["Smiling"]) > 0.5 and moves["Male"] == 0.0  # Male set to what it reads
    default = face_editor.edit(portrait, changes).image
    monkeypatch.setattr(face_editor, "blend", Blend(focus_start=0.0, focus_full_at=0.01))
    focused = face_editor.edit(portrait, changes).image
    diff = changed(focused, default)
    face = portrait.faces[0]
    # where the two differ lies inside the mouth's region mapped into the photo (give or take the
    # smoothing of upsampling the 64 px layers), well below the eyes
    ys, xs = np.nonzero(diff)
    crop = np.c_[xs, ys, np.ones_like(xs)] @ face.matrix.T / face.size
    (cx, cy), (ax, ay) = ATTRIBUTE_REGIONS["Smiling"]
    assert diff.sum() > 100 and (np.hypot((crop[:, 0] - cx) / ax, (crop[:, 1] - cy) / ay) < 1.25).all()
    assert crop[:, 1].min() > 0.6


# -- the edit checks --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def checker(face_editor: FaceEditor) -> EditChecker:
    return EditChecker.load(face_editor.attributes)


@pytest.fixture(scope="module")
def checked_editor(face_editor: FaceEditor, checker: EditChecker) -> FaceEditor:
    return FaceEditor(face_editor.model, face_editor.detector, checker)


def frame_scale(analysis: Analysis, face: int) -> float:
    return max(1.0, analysis.faces[face].size / 150)


def test_the_frame_warped_from_landmarks_is_the_celeba_frame(face_editor: FaceEditor, checker: EditChecker) -> None:
    """Real CelebA frames, warped again from their MTCNN landmarks, come back as nearly the same frame, and
    the strict judge and dlib read them as they read the frames themselves."""
    celeba = CelebA(CELEBA_TINY, "all")
    frames = [np.asarray(Image.open(celeba.image_path(n)).convert("RGB")) for n in celeba.names]
    warped = []
    for frame in frames:
        face = max(face_editor.detect(Image.fromarray(frame)), key=lambda f: f.box[2] - f.box[0])
        warped.append(warp_to_frame(frame, face.landmarks))
        assert warped[-1].shape == frame.shape
    # a frame enlarged twice and placed in a larger photo: its landmarks there give the frame back
    frame = frames[0]
    big = cv2.resize(frame, (356, 436), interpolation=cv2.INTER_CUBIC)
    photo = np.zeros((600, 500, 3), np.uint8)
    photo[40:476, 70:426] = big
    landmarks = (LANDMARK_TEMPLATE + 0.5) * 2 - 0.5 + [70, 40]  # pixel centres scale about -0.5
    np.testing.assert_array_equal(warp_to_frame(photo, landmarks, 2.0), big)
    assert np.abs(warp_to_frame(photo, landmarks).astype(float) - frame).mean() < 3.5  # measured 2.7
    assert np.abs(warp_to_frame(photo, landmarks + 0.5).astype(float) - frame).mean() > 5  # a quarter pixel off
    own, again = checker.read(frames), checker.read(warped)
    probs = np.stack([r.probs for r in own]), np.stack([r.probs for r in again])
    assert np.mean(np.abs(probs[0] - probs[1])) < 0.05
    assert ((probs[0] > 0.5) == (probs[1] > 0.5)).mean() > 0.9
    same = checker.compare(own, again)
    assert same.same_person.all(), same.distance
    assert checker.compare(own, again[1:] + again[:1]).same_person.mean() < 0.2  # another person: changed


def test_report_carries_the_strict_judge_and_identity(checked_editor: FaceEditor) -> None:
    analysis = checked_editor.analyze(load_image(EXAMPLES / "portrait.jpg"))
    (noop,) = checked_editor.edit(analysis, {}).report()["faces"]
    assert noop["identity"] == {"distance": 0.0, "same_person": True}  # nothing changed: the same person
    assert noop["checked"]["before"] == noop["checked"]["after"]
    assert set(noop["checked"]["before"]) == set(checked_editor.attributes)
    assert noop["checked"]["before"]["Eyeglasses"] < 0.5  # the photo has no glasses
    changes = {"Smiling": 1.0, "Eyeglasses": 1.0}
    result = checked_editor.edit(analysis, changes)
    (face,) = result.report()["faces"]
    assert face["checked"]["before"] == noop["checked"]["before"]
    # the same reading, computed here from the returned photo and the photo
    landmarks, scale = analysis.faces[0].face.landmarks, frame_scale(analysis, 0)
    frames = [warp_to_frame(image, landmarks, scale) for image in (analysis.image, result.image)]
    judge = StrictJudge.load(SHIPPED_STRICT_JUDGE)
    expected = judge.predict_proba([Image.fromarray(f) for f in frames])
    for key, row in (("before", 0), ("after", 1)):
        for name, p in face["checked"][key].items():
            assert p == pytest.approx(float(expected[row, judge.attributes.index(name)]), abs=1e-4)
    assert face["checked"]["after"] != face["checked"]["before"]
    embeddings = FaceEmbedder().embed_frames(frames)
    distance = float(np.linalg.norm(embeddings[0] - embeddings[1]))
    assert face["identity"]["distance"] == pytest.approx(distance, abs=1e-3) and distance > 0
    assert face["identity"]["same_person"] == (distance < 0.6)


def test_checks_read_each_photo_face_once_and_skip_faces_left_as_they_were(
        checked_editor: FaceEditor, checker: EditChecker, monkeypatch: pytest.MonkeyPatch) -> None:
    analysis = checked_editor.analyze(load_image(EXAMPLES / "group.jpg"))
    read = []
    real_read = checker.read
    monkeypatch.setattr(checker, "read", lambda frames: read.append(len(frames)) or real_read(frames))
    first = checked_editor.edit(analysis, {"Smiling": 1.0})
    second = checked_editor.edit(analysis, {"Young": 0.0})
    right = checked_editor.edit(analysis, {"Smiling": 1.0}, faces=[1])
    unchanged = checked_editor.edit(analysis, {})
    assert read == [4, 2, 1, 0]  # photo and edit of both faces; edits only; face 1's edit; nothing
    assert first.checks.before.shape == (2, len(checker.attributes)) and right.checks.before.shape[0] == 1
    np.testing.assert_array_equal(second.checks.before, first.checks.before)
    np.testing.assert_allclose(right.checks.after[0], first.checks.after[1], atol=1e-5)
    np.testing.assert_array_equal(unchanged.checks.after, unchanged.checks.before)
    assert (unchanged.checks.distance == 0).all() and unchanged.checks.same_person.all()


def test_without_dlib_the_identity_check_is_left_out(face_editor: FaceEditor, monkeypatch: pytest.MonkeyPatch,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "dlib", None)  # import dlib now fails, as when it is not installed
    with caplog.at_level(logging.WARNING, logger="model.edit_check"):
        checker = EditChecker.load(face_editor.attributes)
    assert checker.judges and not checker.identifies
    assert "identity check is not available" in caplog.text and "needs dlib" in caplog.text
    editor = FaceEditor(face_editor.model, face_editor.detector, checker)
    (face,) = editor.edit(editor.analyze(load_image(EXAMPLES / "portrait.jpg")), {"Smiling": 1.0}).report()["faces"]
    assert face["identity"] is None and set(face["checked"]["after"]) == set(face_editor.attributes)


def test_without_the_strict_judge_its_reading_is_left_out(face_editor: FaceEditor, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv(STRICT_JUDGE_ENV, str(tmp_path / "no-judge"))
    with caplog.at_level(logging.WARNING, logger="model.edit_check"):
        checker = EditChecker.load(face_editor.attributes)
    assert not checker.judges and checker.identifies and checker.attributes == ()
    assert "strict judge is not available" in caplog.text and "no-judge" in caplog.text
    editor = FaceEditor(face_editor.model, face_editor.detector, checker)
    (face,) = editor.edit(editor.analyze(load_image(EXAMPLES / "portrait.jpg")), {}).report()["faces"]
    assert face["checked"] is None and face["identity"] == {"distance": 0.0, "same_person": True}


def test_load_with_checks(weights_dir: Path) -> None:
    editor = FaceEditor.load(str(weights_dir), checks=True)
    assert editor.checker is not None and editor.checker.judges and editor.checker.identifies
    assert FaceEditor.load(str(weights_dir)).checker is None
