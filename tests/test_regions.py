"""Region editors: config, masked edits, training on the fixture, and their place in the pipeline
(only the pixels their mask opens change in the photo)."""
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from model import IFcVAEGAN, ModelConfig
from model.ifcvae import CheckpointError
from model.pipeline import FaceEditor
from model.preprocessing import EDIT_REGIONS, LANDMARK_TEMPLATE, crop_region
from model.paste import crop_footprint
from model.regions import RegionEditor, thin_parts
from tests.conftest import REPO
from tests.test_train import train

SMALL = dict(widths=(8, 16, 16, 32), z_dim=8, aux_hidden=16, loss_weights={"mask": 10.0, "edit_cls": 1.0},
             masked_edit=True)


def region_model(name: str, attributes: tuple[str, ...], mask_bias: float | None = None) -> IFcVAEGAN:
    torch.manual_seed(0)
    model = IFcVAEGAN(ModelConfig(region=EDIT_REGIONS[name], attributes=attributes, **SMALL)).eval()
    if mask_bias is not None:
        with torch.no_grad():
            model.mask_net.out.weight.zero_()
            model.mask_net.out.bias.fill_(mask_bias)
    return model


def test_region_config_shapes_and_checks() -> None:
    cfg = ModelConfig(region=EDIT_REGIONS["eyes"], masked_edit=True, loss_weights={"mask": 1.0})
    assert cfg.image_shape == (64, 128) and cfg.bottom_shape == (4, 8)
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    assert ModelConfig().image_shape == (64, 64)
    with pytest.raises(ValueError, match="inside"):
        ModelConfig(region=(0, 0, 300, 64))
    with pytest.raises(ValueError, match="multiple of 16"):
        ModelConfig(region=(0, 0, 100, 64))
    with pytest.raises(ValueError, match="mask head"):
        ModelConfig(region=EDIT_REGIONS["eyes"], loss_weights={"mask": 1.0})
    with pytest.raises(ValueError, match="region editor"):
        ModelConfig(masked_edit=True)


def test_the_mask_term_trains_the_mask_head_and_a_zero_weight_removes_it() -> None:
    from model.losses import encoder_decoder_losses

    on = {"edit_cls": 1.0, "edit_gan": 1.0, "mask": 10.0}
    for weights in (on, {**on, "mask": 0.0}):
        torch.manual_seed(0)
        model = IFcVAEGAN(ModelConfig(region=EDIT_REGIONS["mouth"], attributes=("Smiling",),
                                      **{**SMALL, "loss_weights": weights})).train()
        x, y = torch.rand(4, 3, 64, 96), torch.tensor([[0.0], [1.0], [0.0], [1.0]])
        total, terms, outs = encoder_decoder_losses(model, x, y, {"mask": 0.5})
        assert ("mask" in terms) == bool(weights["mask"])
        assert outs["x_flip"].shape == outs["x_edit"].shape == x.shape
        torch.testing.assert_close(total, sum(w * terms[k] * (0.5 if k == "mask" else 1.0)
                                              for k, w in model.config.loss_weights.items() if k in terms),
                                   rtol=1e-5, atol=1e-3)
        total.backward()
        assert all(p.grad is not None for p in model.mask_net.parameters())


def test_an_attribute_follows_its_leader_unless_it_is_named() -> None:
    cfg = ModelConfig(region=EDIT_REGIONS["mouth"], attributes=("Smiling", "Mouth_Slightly_Open"),
                      follows={"Smiling": ["Mouth_Slightly_Open"]}, **SMALL)
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    model = IFcVAEGAN(cfg)
    base = torch.tensor([[0.2, 0.3], [0.9, 0.8]])
    assert model.attribute_values(base, {"Smiling": 1.0}).tolist() == [[1.0, 1.0], [1.0, 1.0]]
    assert model.attribute_values(base, {"Smiling": 0.0}).tolist() == [[0.0, 0.0], [0.0, 0.0]]
    named = model.attribute_values(base, {"Smiling": 1.0, "Mouth_Slightly_Open": 0.25})
    assert named.tolist() == [[1.0, 0.25], [1.0, 0.25]]
    assert model.attribute_values(base, {"Mouth_Slightly_Open": 1.0})[:, 0].tolist() == pytest.approx([0.2, 0.9])
    with pytest.raises(ValueError, match="other attributes"):
        ModelConfig(attributes=("Smiling",), follows={"Smiling": ["Mouth_Slightly_Open"]})
    from training.train import follows, parse_args

    args = parse_args(["--data", "d", "--out", "o", "--follows", "Smiling=Mouth_Slightly_Open"])
    assert follows(args.follows) == {"Smiling": ("Mouth_Slightly_Open",)}


def test_masked_edit_keeps_the_input_where_the_mask_is_off() -> None:
    model = region_model("mouth", ("Smiling",))
    x = torch.rand(2, 3, 64, 96)
    decoded, mask, composite = model.masked_edit(x, {"Smiling": 1.0})
    assert mask.shape == (2, 1, 64, 96) and 0 <= mask.min() and mask.max() <= 1
    assert torch.allclose(composite, mask * decoded + (1 - mask) * x)
    closed = region_model("mouth", ("Smiling",), mask_bias=-30.0)
    assert torch.allclose(closed.edit(x, {"Smiling": 1.0}), x, atol=1e-6)
    with pytest.raises(ValueError, match="B x 3 x 64 x 96"):
        model.edit(torch.rand(1, 3, 64, 64), {})


def test_a_region_editor_tuned_to_each_face_draws_it_with_its_own_decoder() -> None:
    editor = RegionEditor("mouth", region_model("mouth", ("Smiling",)))
    crops = (torch.rand(2, 3, 64, 96) * 255).to(torch.uint8)
    decoders = editor.tune(crops, 3)
    assert len(decoders) == 2 and decoders[0] is not editor.model.decoder
    shared, tuned = editor.edit(crops, {"Smiling": 1.0}), editor.edit(crops, {"Smiling": 1.0}, decoders)
    assert not torch.allclose(shared.decoded, tuned.decoded)
    assert torch.allclose(shared.reconstructions, editor.model.reconstruct(shared.crops))
    assert not torch.allclose(shared.reconstructions, shared.composite)  # the decoding, not the composite


def test_a_region_editor_saves_and_loads(tmp_path: Path) -> None:
    model = region_model("eyes", ("Eyeglasses",))
    model.save_pretrained(tmp_path / "eyes")
    loaded = IFcVAEGAN.load(tmp_path / "eyes")
    assert loaded.config.region == EDIT_REGIONS["eyes"] and loaded.mask_net is not None
    x = torch.rand(1, 3, 64, 128)
    assert torch.allclose(loaded.edit(x, {"Eyeglasses": 0.0}), model.edit(x, {"Eyeglasses": 0.0}))
    with pytest.raises(CheckpointError, match="masked region editor"):
        RegionEditor("eyes", IFcVAEGAN(ModelConfig(widths=(8, 16), z_dim=4, aux_hidden=8)))


def test_cut_reads_the_region_of_a_celeba_frame(celeba_tiny: Path) -> None:
    """A CelebA image whose landmarks are the template is cut exactly as training cuts it."""
    name = sorted((celeba_tiny / "img_align_celeba").iterdir())[0]
    frame = Image.open(name).convert("RGB")
    editor = RegionEditor("mouth", region_model("mouth", ("Smiling",)))
    cut = editor.cut(np.asarray(frame), LANDMARK_TEMPLATE)
    expected = crop_region(frame, EDIT_REGIONS["mouth"]).permute(1, 2, 0).numpy()
    assert cut.shape == expected.shape
    assert np.abs(cut.astype(int) - expected.astype(int)).max() <= 1


def test_the_drawing_takes_the_photos_colours_and_keeps_its_own_contrast() -> None:
    """A decoder that draws everything too dark: its drawing gets the photo's tone, and a thin dark
    frame it adds keeps its full contrast against that tone."""
    from model.regions import photo_colours

    crops = torch.full((1, 3, 64, 128), 0.7)
    rec = torch.full((1, 3, 64, 128), 0.4)  # the decoder's error: 0.3 too dark everywhere
    decoded = rec.clone()
    decoded[..., 30:32, 10:118] = 0.1  # a frame, 0.3 darker than the decoder's skin
    drawn = photo_colours(crops, rec, decoded)
    assert torch.allclose(drawn[..., 10, 60], torch.tensor(0.7), atol=1e-4)  # the photo's skin
    assert torch.allclose(drawn[..., 30, 60], torch.tensor(0.4), atol=1e-4)  # the frame, 0.3 darker


def test_thin_parts_are_frames_not_lenses() -> None:
    on = np.zeros((40, 80), np.uint8)
    on[10:12, 5:75] = 1          # a thin bar (a frame)
    on[20:36, 20:40] = 1         # a wide block (a lens)
    thin = thin_parts(on, 2.0)
    assert thin[10:12, 5:75].all() and not thin[24:32, 24:36].any()


@pytest.mark.slow
def test_train_a_masked_region_editor(celeba_tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    train(["--data", str(celeba_tiny), "--out", str(out), "--max-steps", "3", "--region", "mouth",
           "--masked-edit", "--attributes", "Smiling", "--weight", "mask=10", "--weight", "edit_cls=1",
           "--weight", "edit_gan=1", "--mask-warmup", "2"], tmp_path)
    model = IFcVAEGAN.load(out / "last")
    assert model.config.region == EDIT_REGIONS["mouth"] and model.mask_net is not None
    assert "mask" in (out / "log.csv").read_text().splitlines()[0].split(",")
    assert "mask_Smiling" in (out / "val.csv").read_text()
    # kept for a later session (bfloat16, with the run's record), then continued from with --init
    from training.snapshot import main as snapshot

    kept = tmp_path / "in_training" / "mouth"
    assert snapshot(["--run", str(out), "--out", str(kept)]) == 0
    assert {p.name for p in kept.iterdir()} >= {"config.json", "model.safetensors", "args.json", "log.csv"}
    again = IFcVAEGAN.load(kept)
    for (k, a), b in zip(model.state_dict().items(), again.state_dict().values()):
        assert torch.equal(a.to(torch.bfloat16).to(a.dtype) if a.is_floating_point() else a, b), k
    train(["--data", str(celeba_tiny), "--out", str(tmp_path / "later"), "--max-steps", "1", "--region", "mouth",
           "--masked-edit", "--attributes", "Smiling", "--weight", "mask=10", "--weight", "edit_cls=1",
           "--weight", "edit_gan=1", "--init", str(kept)], tmp_path)


@pytest.fixture(scope="module")
def region_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped whole-face checkpoint with an untrained mouth editor (Smiling) in ``mouth/``."""
    folder = tmp_path_factory.mktemp("weights")
    for f in ("config.json", "model.safetensors"):
        shutil.copy(REPO / "weights" / f, folder / f)
    region_model("mouth", ("Smiling", "Mouth_Slightly_Open")).save_pretrained(folder / "mouth")
    return folder


def test_the_pipeline_loads_region_editors(region_weights: Path) -> None:
    editor = FaceEditor.load(str(region_weights))
    assert [e.name for e in editor.regions] == ["mouth"]
    assert set(editor.owner) == {"Smiling"}  # Mouth_Slightly_Open is not an attribute of the app
    assert not FaceEditor.load(str(region_weights), regions=False).regions
    photo = Image.open(REPO / "examples" / "portrait.jpg").convert("RGB")
    tuned = editor.analyze(photo, tune_steps=1)
    assert len(tuned.region_decoders["mouth"]) == len(tuned.faces)
    assert editor.edit(tuned, {"Smiling": 1.0}).regions[0].decoded.shape[1:] == (3, 64, 96)
    assert editor.split_changes({"Smiling": 1.0, "Bangs": 1.0}) == ({"Bangs": 1.0}, {"mouth": {"Smiling": 1.0}})


@pytest.mark.parametrize("bias", [-30.0, 30.0])
def test_a_region_edit_changes_only_what_its_mask_opens(region_weights: Path, face_detector, bias: float) -> None:
    editor = FaceEditor.load(str(region_weights))
    editor.detector = face_detector
    with torch.no_grad():
        editor.regions[0].model.mask_net.out.weight.zero_()
        editor.regions[0].model.mask_net.out.bias.fill_(bias)
    photo = Image.open(REPO / "examples" / "portrait.jpg").convert("RGB")
    analysis = editor.analyze(photo)
    assert analysis.regions["mouth"].shape[1:] == (3, 64, 96)
    result = editor.edit(analysis, {"Smiling": 1.0})
    changed = np.abs(result.image.astype(int) - analysis.image.astype(int)).sum(-1) > 0
    if bias < 0:  # a closed mask: the photo comes back untouched
        assert not changed.any()
        return
    region = editor.regions[0]
    landmarks = analysis.faces[0].face.landmarks
    h, w = region.model.config.image_shape
    x0, y0, x1, y1 = crop_footprint(region.matrix(landmarks), (w, h), analysis.image.shape)
    assert changed.any() and not changed[:y0].any() and not changed[y1:].any()
    assert not changed[:, :x0].any() and not changed[:, x1:].any()
    assert [r.name for r in result.regions] == ["mouth"] and result.regions[0].mask.shape == (1, 1, 64, 96)
    assert result.report()["faces"][0]["after"]["Smiling"] == pytest.approx(float(result.after[0][0]), abs=1e-3)


def test_removing_glasses_fills_thin_parts_from_the_photo(region_weights: Path, face_detector, tmp_path: Path) -> None:
    """A removal of Eyeglasses takes the frame-thin parts of the mask from the photo's own
    neighbourhood (on a flat photo they stay flat, whatever the editor draws) and keeps the editor's
    drawing where the mask is wide."""
    folder = tmp_path / "w"
    shutil.copytree(region_weights, folder)
    region_model("eyes", ("Eyeglasses",), mask_bias=30.0).save_pretrained(folder / "eyes")
    editor = FaceEditor.load(str(folder))
    editor.detector = face_detector
    photo = Image.open(REPO / "examples" / "portrait.jpg").convert("RGB")
    analysis = editor.analyze(photo)
    eyes = editor.owner["Eyeglasses"]
    landmarks = analysis.faces[0].face.landmarks
    flat = np.full_like(analysis.image, 128)
    torch.manual_seed(0)
    texture = torch.rand((3, 64, 128))  # texture: kept where drawn
    line = torch.zeros((1, 64, 128))
    line[:, 30:31, 10:118] = 1.0  # a mask one region pixel thin (a frame): filled from the photo
    lens = torch.zeros((1, 64, 128))
    lens[:, 20:44, 20:60] = 1.0  # a wide part (a dark lens): the editor's drawing is kept
    filled, drawn = flat.copy(), flat.copy()
    eyes.paste(filled, landmarks, texture, line, fill=True)
    eyes.paste(drawn, landmarks, texture, lens, fill=True)
    assert np.abs(filled.astype(int) - 128).max() <= 2
    assert np.abs(drawn.astype(int) - 128).max() > 20


def test_region_sheet_shows_each_way_side_by_side(region_weights: Path, celeba_tiny: Path, tmp_path: Path) -> None:
    from evaluation.region_sheet import COLUMNS, main as region_sheet

    out = tmp_path / "sheet.png"
    assert region_sheet(["--weights", str(region_weights), "--data", str(celeba_tiny), "--out", str(out),
                         "--faces", "1", "--tune-steps", "1"]) == 0
    with Image.open(out) as im:
        assert im.width > len(COLUMNS) * 178 and im.height > 2 * 218  # Smiling on and off, one face each
    assert region_sheet(["--weights", str(REPO / "weights"), "--data", str(celeba_tiny), "--out", str(out)]) == 1


def test_a_mirrored_mask_is_left_right_symmetric() -> None:
    torch.manual_seed(0)
    model = IFcVAEGAN(ModelConfig(region=EDIT_REGIONS["mouth"], attributes=("Smiling",), mirror_mask=True,
                                  **SMALL)).eval()
    x = torch.rand(2, 3, 64, 96)
    parts = model.masked_parts(x, {"Smiling": 1.0})
    assert torch.equal(parts.mask, parts.mask.flip(-1)) and parts.flow is None
    plain = region_model("mouth", ("Smiling",))
    mask = plain.masked_edit(x, {"Smiling": 1.0})[1]
    assert not torch.equal(mask, mask.flip(-1))
    with pytest.raises(ValueError, match="mirror_mask needs the mask head"):
        ModelConfig(mirror_mask=True)
    with pytest.raises(ValueError, match="warp needs the mask head"):
        ModelConfig(warp=True)


def test_warp_moves_pixels_by_the_flow() -> None:
    from model.ifcvae import composite
    from model.motion import warp

    x = torch.rand(1, 3, 64, 96)
    flow = torch.zeros(1, 2, 64, 96)
    flow[:, 0] = 3.0  # every pixel taken from 3 pixels to its right
    assert torch.allclose(warp(x, flow)[..., :, :90], x[..., :, 3:93], atol=1e-5)
    flow[:, 0], flow[:, 1] = 0.0, -2.0  # from 2 pixels above
    assert torch.allclose(warp(x, flow)[..., 2:, :], x[..., :-2, :], atol=1e-5)
    closed = torch.zeros(1, 1, 64, 96)
    assert torch.allclose(composite(x, torch.zeros_like(x), closed, flow), warp(x, flow))
    assert torch.allclose(composite(x, torch.zeros_like(x), closed, None), x)


def blob(cx: float, cy: float, h: int = 64, w: int = 96) -> torch.Tensor:
    """A soft dark disc on a light ``3 x h x w`` image."""
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32),
                            indexing="ij")
    d = ((xs - cx) ** 2 + (ys - cy) ** 2).sqrt()
    return (0.8 - 0.6 * torch.sigmoid((8.0 - d) / 1.5)).expand(3, h, w)


def test_a_move_is_moved_not_drawn_and_what_is_new_is_drawn() -> None:
    """When the decoded edit only moves what the reconstruction shows, the flow carries the photo's own
    pixels there and the mask closes; what the move cannot explain (a new disc) stays drawn."""
    from model.motion import moved_edit, warp

    rec = blob(44, 34)[None]
    moved_up = blob(44, 30)[None]  # the same disc, 4 pixels higher
    mask = torch.ones(1, 1, 64, 96)
    flow, kept = moved_edit(rec, moved_up, mask)
    assert abs(float(flow[0, 1, 30, 44]) - 4.0) < 1.0 and abs(float(flow[0, 0, 30, 44])) < 0.5
    assert (warp(rec, flow) - moved_up).abs().mean() < 0.5 * (rec - moved_up).abs().mean()
    assert kept.mean() < 0.25
    new = torch.minimum(rec, blob(70, 34)[None])  # a second disc that was not there
    _, kept_new = moved_edit(rec, new, mask)
    assert kept_new[0, 0, 34, 70] > 0.9 and kept_new[0, 0, 34, 20] < 0.1
    # no flow where the mask is off
    flow_off, _ = moved_edit(rec, moved_up, torch.zeros(1, 1, 64, 96))
    assert torch.count_nonzero(flow_off) == 0


def test_a_warp_editors_edit_moves_its_input() -> None:
    model = IFcVAEGAN(ModelConfig(region=EDIT_REGIONS["mouth"], attributes=("Smiling",), warp=True, **SMALL)).eval()
    with torch.no_grad():
        model.mask_net.out.weight.zero_()
        model.mask_net.out.bias.fill_(30.0)  # open everywhere
    x = torch.rand(2, 3, 64, 96)
    parts = model.masked_parts(x, {"Smiling": 1.0})
    assert parts.flow is not None and parts.flow.shape == (2, 2, 64, 96)
    assert parts.mask.max() <= 1.0 and parts.mask.mean() < 1.0  # what the move explains is not drawn
    from model.ifcvae import composite
    assert torch.allclose(parts.composite, composite(x, parts.decoded, parts.mask, parts.flow))
    assert ModelConfig.from_dict(model.config.to_dict()).warp


def test_paste_moves_the_photos_own_pixels_by_the_field(region_weights: Path, face_detector, tmp_path: Path) -> None:
    """The field moves the photo's own pixels at the photo's resolution, in the direction it says in
    the region (here: up), and a closed mask draws nothing."""
    folder = tmp_path / "w"
    shutil.copytree(region_weights, folder)
    region_model("mouth", ("Smiling",), mask_bias=-30.0).save_pretrained(folder / "mouth")
    editor = FaceEditor.load(str(folder))
    editor.detector = face_detector
    photo = Image.open(REPO / "examples" / "portrait.jpg").convert("RGB")
    analysis = editor.analyze(photo)
    mouth = editor.owner["Smiling"]
    landmarks = analysis.faces[0].face.landmarks
    stripes = np.zeros_like(analysis.image)
    stripes[::8] = 255  # horizontal lines every 8 photo pixels
    closed = torch.zeros((1, 64, 96))
    flow = torch.zeros((2, 64, 96))
    flow[1, 16:48, 24:72] = 2.0  # take from 2 region pixels below: content moves up
    moved = stripes.copy()
    mouth.paste(moved, landmarks, torch.zeros((3, 64, 96)), closed, fill=False, flow=flow)
    assert not np.array_equal(moved, stripes)
    unmoved = stripes.copy()
    mouth.paste(unmoved, landmarks, torch.zeros((3, 64, 96)), closed, fill=False, flow=torch.zeros((2, 64, 96)))
    assert np.array_equal(unmoved, stripes)
    # at the region's centre the lines sit higher by about 2 region pixels times the photo's scale
    centre = mouth.matrix(landmarks)
    cx, cy = (np.linalg.inv(np.vstack([centre, [0, 0, 1]])) @ np.array([48.0, 32.0, 1.0]))[:2]
    col = moved[int(cy) - 30:int(cy) + 30, int(cx), 0].astype(int)
    ref = stripes[int(cy) - 30:int(cy) + 30, int(cx), 0].astype(int)
    shift = min(range(0, 8), key=lambda s: np.abs(np.roll(ref, -s) - col)[:50].sum())
    from model.faces import photo_per_frame
    assert abs(shift - 2.0 * photo_per_frame(landmarks)) <= 1.5  # photo pixels per frame pixel
