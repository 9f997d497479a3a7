"""The critic's augmentation: ghost smiles change only the mouths of faces that do not smile."""
import torch

from model.paste import ATTRIBUTE_REGIONS, REGION_CORE, ellipse_mask
from training.augment import add_ghost_smiles

SIZE = 64


def faces(n: int = 8) -> torch.Tensor:
    """One flat colour per face, so that a blurred mouth is the donor's colour."""
    return torch.rand(n, 3, 1, 1, generator=torch.Generator().manual_seed(0)).expand(n, 3, SIZE, SIZE).clone()


def test_ghost_smiles_go_on_the_mouths_of_faces_that_do_not_smile() -> None:
    torch.manual_seed(0)
    x = faces()
    smiling = torch.tensor([True, False, False, True, False, False, False, False])
    out = add_ghost_smiles(x, smiling, 0.25)
    touched = [(out[i] != x[i]).any().item() for i in range(len(x))]
    assert sum(touched) == 2 and not any(touched[i] for i in (0, 3))  # a quarter, never a smiling face
    outside = torch.from_numpy(ellipse_mask(SIZE, *ATTRIBUTE_REGIONS["Smiling"], REGION_CORE)) == 0
    assert torch.equal(out[:, :, outside], x[:, :, outside])  # nothing moves outside the smile's region
    core = torch.from_numpy(ellipse_mask(SIZE, *ATTRIBUTE_REGIONS["Smiling"], REGION_CORE)) == 1
    for i in (i for i, t in enumerate(touched) if t):  # the mouth's core is 30-70 % a smiling face's
        pixel = out[i][:, core][:, 0]
        shares = [((pixel - x[i, :, 0, 0]) / (x[d, :, 0, 0] - x[i, :, 0, 0])) for d in (0, 3)]
        assert any(torch.allclose(s, s.mean().expand(3), atol=1e-4) and 0.3 <= s.mean() <= 0.7 for s in shares)
    assert torch.equal(add_ghost_smiles(x, smiling, 1.0)[smiling], x[smiling])
    assert sum((add_ghost_smiles(x, smiling, 1.0)[i] != x[i]).any().item() for i in range(8)) == 6


def test_no_ghost_without_a_smiling_face_or_a_share() -> None:
    x = faces(4)
    assert add_ghost_smiles(x, torch.zeros(4, dtype=torch.bool), 0.5) is x
    assert add_ghost_smiles(x, torch.tensor([True, False, False, False]), 0.0) is x
