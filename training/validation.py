"""Per-epoch validation of a training run on held-out crops (the full evaluation is in ``evaluation/``)."""
from __future__ import annotations

import torch

from evaluation.z_probe import z_probe
from model import IFcVAEGAN
from model.losses import local_attributes, local_view, masked_composite
from model.paste import face_mask, replace_weight
from model.preprocessing import to_model_input


#: Fewer validation images than this give no z-probe (NaN).
PROBE_MIN_FACES = 50


@torch.no_grad()
def validate(model: IFcVAEGAN, images: torch.Tensor, labels: torch.Tensor, bs: int = 250) -> dict[str, float]:
    """On uint8 crops and their labels:

    - ``acc_<attr>``, ``acc_mean``: the encoder head's accuracy; ``rec_mse``: reconstruction MSE;
    - ``probe_<attr>``: the z-probe, i.e. the balanced accuracy of a fresh MLP fitted on the
      posterior means of part of the images and scored on the rest (how much of each attribute z
      still tells; 0.5 = none; NaN under ``PROBE_MIN_FACES`` images);
    - ``repaint_<attr>``, ``repaint_mean``: for a single-attribute flip, the share of the face (the
      paste mask's weight) whose own detail the default paste replaces by the decoded edit (the
      rest keeps the photo's pixels plus the edit's change); the person is lost where it is high;
    - with a critic: ``critic_acc_mean`` on the real crops, and ``edit_<attr>``: the share of faces
      whose decoded single-attribute flip the critic reads as flipped;
    - with a local critic, for its attributes: ``local_acc_<attr>`` on the real crops' regions and
      ``local_edit_<attr>``: the share of flips it reads as flipped from the region alone;
    - a region editor has no ``repaint_*`` (it is not pasted by the whole face's mask); a masked one
      judges its composites (the flip where the mask is on, the input elsewhere) and reports
      ``mask_<attr>``: the mask's mean on a single-attribute flip (the share of the region it changes).
    """
    model.eval()
    device = next(model.parameters()).device
    heads, mus, critics, edits, repaints, se = [], [], [], [], [], 0.0
    local = local_attributes(model) if model.local_critic is not None else []
    local_reads: dict[str, list[torch.Tensor]] = {}
    whole_face = model.config.region is None
    mask = torch.tensor(face_mask(model.config.image_size), device=device) if whole_face else None
    masks = []
    for i in range(0, len(images), bs):
        x = to_model_input(images[i:i + bs]).to(device)
        mu, _, logits = model.encode(x)
        y_hat = torch.sigmoid(logits)
        rec = model.decode(mu, y_hat)
        se += (rec - x).pow(2).mean(dim=(1, 2, 3)).sum().item()
        heads.append(logits.cpu() > 0)
        mus.append(mu.float().cpu())
        flips, opened = [], []
        for j in range(len(model.attributes)):
            y = y_hat.clone()
            y[:, j] = (y_hat[:, j] < 0.5).float()
            e = model.decode(mu, y)
            if model.mask_net is not None:
                e, m = masked_composite(model, x, rec, e, y, y_hat)
                opened.append(m.mean((1, 2, 3)).cpu())
            flips.append((y, e))
        if opened:
            masks.append(torch.stack(opened, 1))
        if whole_face:
            repaints.append(torch.stack([(replace_weight(rec, e)[:, 0] * mask).sum((1, 2)) / mask.sum()
                                         for _, e in flips], 1).cpu())
        if model.critic is not None:
            critics.append(model.critic(x).cpu() > 0)
            edits.append(torch.stack([(model.critic(e)[:, j] > 0).cpu() == (y[:, j] > 0.5).cpu()
                                      for j, (y, e) in enumerate(flips)], 1))
        for j, a in local:
            y, e = flips[j]
            local_reads.setdefault(f"local_acc_{a}", []).append(
                ((model.local_critic(local_view(x, a))[:, j] > 0) == (labels[i:i + bs, j] > 0.5).to(device)).cpu())
            local_reads.setdefault(f"local_edit_{a}", []).append(
                ((model.local_critic(local_view(e, a))[:, j] > 0) == (y[:, j] > 0.5)).cpu())
    model.train()
    truth = labels > 0.5
    acc = (torch.cat(heads) == truth).float().mean(0)
    out = {f"acc_{a}": acc[j].item() for j, a in enumerate(model.attributes)}
    out["acc_mean"] = acc.mean().item()
    out["rec_mse"] = se / len(images)
    probe = (z_probe(torch.cat(mus), truth, torch.cat(heads), model.attributes, probes=("mlp",))["mlp"]
             if len(images) >= PROBE_MIN_FACES else {})
    out |= {f"probe_{a}": float("nan") if probe.get(a) is None else probe[a] for a in model.attributes}
    if repaints:
        repaint = torch.cat(repaints).mean(0)
        out |= {f"repaint_{a}": repaint[j].item() for j, a in enumerate(model.attributes)}
        out["repaint_mean"] = repaint.mean().item()
    if masks:
        opened_mean = torch.cat(masks).mean(0)
        out |= {f"mask_{a}": opened_mean[j].item() for j, a in enumerate(model.attributes)}
    if model.critic is not None:
        out["critic_acc_mean"] = (torch.cat(critics) == truth).float().mean().item()
        edit = torch.cat(edits).float().mean(0)
        out |= {f"edit_{a}": edit[j].item() for j, a in enumerate(model.attributes)}
    out |= {k: torch.cat(v).float().mean().item() for k, v in local_reads.items()}
    return out
