"""The single configuration of an IFcVAE-GAN checkpoint (saved as ``config.json``)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from .preprocessing import CELEBA_FRAME as FRAME

#: CelebA's 40 attribute names, in the order of ``list_attr_celeba.txt``.
CELEBA_ATTRIBUTES: tuple[str, ...] = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs",
    "Big_Lips", "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair", "Bushy_Eyebrows",
    "Chubby", "Double_Chin", "Eyeglasses", "Goatee", "Gray_Hair", "Heavy_Makeup", "High_Cheekbones",
    "Male", "Mouth_Slightly_Open", "Mustache", "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin",
    "Pointy_Nose", "Receding_Hairline", "Rosy_Cheeks", "Sideburns", "Smiling", "Straight_Hair",
    "Wavy_Hair", "Wearing_Earrings", "Wearing_Hat", "Wearing_Lipstick", "Wearing_Necklace",
    "Wearing_Necktie", "Young",
)

#: The attributes the shipped editor controls.
DEFAULT_ATTRIBUTES: tuple[str, ...] = ("Smiling", "Eyeglasses", "Bangs", "No_Beard", "Male", "Young")

#: How the encoder fights the auxiliary net (``ModelConfig.aux_objective``): ``negated_bce`` is the
#: paper's (minus the auxiliary net's BCE); ``confusion`` pulls the auxiliary net's predictions to the
#: batch's attribute frequencies; ``balanced``: the auxiliary net learns with class-balanced BCE (a
#: rare attribute counts as much as a common one) and the encoder pulls its predictions to 1/2 (see
#: ``model.losses.adversarial_aux_term``).
AUX_OBJECTIVES: tuple[str, ...] = ("negated_bce", "confusion", "balanced")

#: Names of the loss terms; each has a weight in :attr:`ModelConfig.loss_weights`.
LOSS_TERMS: tuple[str, ...] = ("rec", "kl", "cls", "cls_rec", "aux", "gan", "rec_feat", "edit_cls", "edit_gan",
                               "edit_change", "edit_local", "z_gap", "mask")


def default_loss_weights() -> dict[str, float]:
    """Per-image loss weights (rec and KL are sums over pixels / z dims; the others are means).

    The paper's terms: ``rec``: Bernoulli (BCE) reconstruction; ``kl``: KL(q(z|x) || N(0, I));
    ``cls``: the encoder's attribute head on real images; ``cls_rec``: the same head on
    reconstructions; ``aux``: the encoder's adversarial term against the auxiliary net
    (``ModelConfig.aux_objective``); ``gan``: the generator's non-saturating GAN term on
    reconstructions and prior samples.

    Beyond the paper, off by default: ``rec_feat``: squared distance between the discriminator's
    features of the image and of its reconstruction (Larsen et al.'s learned similarity; needs
    ``gan``). ``edit_cls`` and ``edit_gan`` score the edit itself: the decoder renders each face
    with attributes flipped at random (``ModelConfig.flip_prob``), and a separate attribute critic
    that learns from real images only (frozen for this term) must read the flipped values
    (``edit_cls``), and the discriminator must take the result for real (``edit_gan``; needs ``gan``).
    ``edit_change``: mean absolute difference between that flipped rendering and the reconstruction
    from the same z (a fixed target: only the edit is pulled), so that an edit changes only what the
    flipped attributes need (the rest of the face, and with it the person, stays).
    ``edit_local``: a local critic that sees only an attribute's own part of the face
    (``model.losses.LOCAL_REGIONS``: the lips of a smile) and learns from real images only (frozen
    for this term) must read the flipped value there too, so that the edit shows where a person
    looks for it and not only around it (the cheeks a smile lifts).
    ``z_gap``: for each attribute, the squared distance between the batch's mean posterior means of
    the faces with it and of those without it (an unbiased estimate, each z dimension in units of
    its spread over the batch), summed over dimensions and averaged over attributes: a direct,
    non-adversarial pull of what a linear probe can read from z towards nothing.

    ``mask`` (a region editor's, ``ModelConfig.region``): the mask head says where an edit applies and
    the edit keeps the input's own pixels elsewhere; this term is the mask's mean (change as few pixels
    as the edit needs) plus its total variation (in one piece, not speckles), on the flipped pass.

    Setting a weight to 0 removes the term (and the network it needs is not run). Measured effects
    of the weights are recorded with the runs that measured them (``results/``), not here.
    """
    return {"rec": 1.0, "kl": 1.0, "cls": 1000.0, "cls_rec": 1000.0, "aux": 100.0, "gan": 20.0,
            "rec_feat": 0.0, "edit_cls": 0.0, "edit_gan": 0.0, "edit_change": 0.0, "edit_local": 0.0, "z_gap": 0.0,
            "mask": 0.0}


@dataclass
class ModelConfig:
    """Shapes, attribute names and loss weights of one model."""

    image_size: int = 64
    z_dim: int = 100
    widths: tuple[int, ...] = (32, 64, 128, 256)
    kernel_size: int = 5
    aux_hidden: int = 1000
    attributes: tuple[str, ...] = DEFAULT_ATTRIBUTES
    loss_weights: dict[str, float] = field(default_factory=default_loss_weights)
    aux_objective: str = "negated_bce"
    #: Chance that each attribute is flipped in the edit pass (``edit_cls`` / ``edit_gan``).
    flip_prob: float = 0.3
    #: Projection discriminator: D also reads the attributes an image claims (real images their
    #: labels, decoded ones the values they were rendered with), so that a face rendered "with
    #: glasses" must look like a real face with glasses, not merely like a real face.
    conditional_discriminator: bool = False
    #: A region editor: the box (left, top, right, bottom) of the CelebA frame it edits, at the frame's
    #: own resolution (the image is ``bottom - top`` x ``right - left``; ``image_size`` is then unused).
    #: None: the whole-face editor on :data:`model.preprocessing.CROP_BOX` resized to ``image_size``.
    region: tuple[int, int, int, int] | None = None
    #: Whether the editor has a mask head (``model.networks.MaskNet``): an edit is then the decoded
    #: image where the mask is on and the input's own pixels where it is off.
    masked_edit: bool = False
    #: Whether the mask is made left-right symmetric (the union of the mask and its mirror image): an
    #: edit that opens one lens or one mouth corner opens the other as well. For regions centred on
    #: the face's axis (``model.preprocessing.EDIT_REGIONS``).
    mirror_mask: bool = False
    #: Editing only: whether an edit moves the input's own pixels along the optical flow from the
    #: reconstruction to the decoded edit (``model.motion``) and draws only where that move leaves
    #: the decoded edit unexplained (a smile lifts the photo's own lips and draws the teeth).
    warp: bool = False
    #: Attributes that go with another in an edit: when an edit sets the key and leaves the listed
    #: attributes alone, they take the same value (a smile the mouth editor adds opens the mouth, as
    #: most smiles in CelebA do; one it removes closes it). Editing only: training is unchanged.
    follows: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.widths = tuple(int(w) for w in self.widths)
        self.attributes = tuple(self.attributes)
        if self.region is not None:
            self.region = tuple(int(v) for v in self.region)
            left, top, right, bottom = self.region
            if len(self.region) != 4 or not 0 <= left < right <= FRAME[0] or not 0 <= top < bottom <= FRAME[1]:
                raise ValueError(f"region {self.region} is not a box (left, top, right, bottom) inside "
                                 f"the {FRAME[0]} x {FRAME[1]} CelebA frame")
        self.loss_weights = {**default_loss_weights(), **dict(self.loss_weights)}
        unknown = set(self.loss_weights) - set(LOSS_TERMS)
        if unknown:
            raise ValueError(f"unknown loss terms {sorted(unknown)}; known: {list(LOSS_TERMS)}")
        if self.loss_weights["rec_feat"] and not self.loss_weights["gan"]:
            raise ValueError("rec_feat uses the discriminator, which only trains with the gan term on")
        if self.loss_weights["edit_gan"] and not self.loss_weights["gan"]:
            raise ValueError("edit_gan uses the discriminator, which only trains with the gan term on")
        if not 0.0 < self.flip_prob <= 1.0:
            raise ValueError(f"flip_prob must be in (0, 1], got {self.flip_prob}")
        bad = [a for a in self.attributes if a not in CELEBA_ATTRIBUTES]
        if bad:
            raise ValueError(f"unknown CelebA attributes {bad}")
        if self.aux_objective not in AUX_OBJECTIVES:
            raise ValueError(f"unknown aux_objective {self.aux_objective!r}; known: {list(AUX_OBJECTIVES)}")
        if not self.attributes:
            raise ValueError("a model needs at least one attribute")
        self.follows = {str(k): tuple(str(a) for a in v) for k, v in dict(self.follows).items()}
        for leader, followers in self.follows.items():
            strangers = [a for a in (leader, *followers) if a not in self.attributes]
            if strangers or leader in followers:
                raise ValueError(f"follows {leader!r}: {list(followers)} must be other attributes of this "
                                 f"model ({list(self.attributes)})")
        if self.loss_weights["mask"] and not self.masked_edit:
            raise ValueError("the mask term needs the mask head (masked_edit)")
        if self.masked_edit and self.region is None:
            raise ValueError("a mask head belongs to a region editor (give region)")
        for option in ("mirror_mask", "warp"):
            if getattr(self, option) and not self.masked_edit:
                raise ValueError(f"{option} needs the mask head (masked_edit)")
        down = 2 ** len(self.widths)
        for side in self.image_shape:
            if side % down or side < down:
                raise ValueError(f"image sides {self.image_shape} must each be a multiple of {down} "
                                 f"for {len(self.widths)} stride-2 layers")
        if self.kernel_size % 2 == 0:
            raise ValueError("kernel_size must be odd")

    @property
    def has_critic(self) -> bool:
        """Whether the model holds the attribute critic (only the edit_cls term needs it)."""
        return bool(self.loss_weights["edit_cls"])

    @property
    def num_attributes(self) -> int:
        return len(self.attributes)

    @property
    def image_shape(self) -> tuple[int, int]:
        """(height, width) of the images the model reads and draws."""
        if self.region is None:
            return self.image_size, self.image_size
        left, top, right, bottom = self.region
        return bottom - top, right - left

    @property
    def bottom_shape(self) -> tuple[int, int]:
        """(height, width) of the smallest feature map."""
        h, w = self.image_shape
        return h // 2 ** len(self.widths), w // 2 ** len(self.widths)

    @property
    def bottom_pixels(self) -> int:
        """Pixels of the smallest feature map."""
        h, w = self.bottom_shape
        return h * w

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["widths"] = list(self.widths)
        d["attributes"] = list(self.attributes)
        d["region"] = None if self.region is None else list(self.region)
        d["follows"] = {k: list(v) for k, v in self.follows.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown config keys {sorted(unknown)}; known: {sorted(known)}")
        return cls(**d)
