"""The motion of a region edit: move the photo's own pixels where the editor's change is a move.

A region editor draws its region blurred; where its edit only moves what is there (lips stretched
into a smile, a mouth closed), the photo's own pixels can be moved instead, and stay as sharp as the
photo. The move is the optical flow from the editor's reconstruction to its decoded edit (OpenCV's
Farneback, on the two decodings, which are equally blurred), smoothed and kept to where the mask is
on. Drawing is then kept only where the moved reconstruction still differs from the decoded edit
(teeth that appear, a mouth that opens).
"""
from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F

#: Farneback's window (pixels of the region), and the Gaussian that smooths the flow (sigma, pixels).
FLOW_WINDOW: int = 21
FLOW_SMOOTH: float = 3.0
#: Side of the box filter over the mask that bounds the flow (pixels of the region).
FLOW_REACH: int = 9
#: A mean absolute difference (in [0, 1] per channel) between the moved reconstruction and the decoded
#: edit at or above which the edit is drawn in full; below it, drawing fades out toward 0.
UNEXPLAINED: float = 0.1


def warp(images: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """``images`` (``N x C x H x W``) with each pixel taken from where ``flow`` (``N x 2 x H x W``, in
    pixels (x, y)) points: out[p] = images[p + flow[p]] (bilinear, the border repeated)."""
    _, _, h, w = images.shape
    ys, xs = torch.meshgrid(torch.arange(h, dtype=flow.dtype, device=flow.device),
                            torch.arange(w, dtype=flow.dtype, device=flow.device), indexing="ij")
    gx = (2 * (xs + flow[:, 0]) + 1) / w - 1  # pixel centres, align_corners=False
    gy = (2 * (ys + flow[:, 1]) + 1) / h - 1
    grid = torch.stack([gx, gy], dim=-1)
    return F.grid_sample(images, grid.to(images.dtype), mode="bilinear", padding_mode="border", align_corners=False)


def gray(image: torch.Tensor) -> np.ndarray:
    """``3 x H x W`` in [0, 1] -> ``H x W`` uint8 luminance."""
    rgb = (image.permute(1, 2, 0).float().numpy() * 255.0).clip(0, 255).astype(np.uint8)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def edit_flow(reconstruction: torch.Tensor, decoded: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The flow (``N x 2 x H x W``, pixels) that moves each reconstruction toward its decoded edit:
    ``decoded[p] ~ reconstruction[p + flow[p]]``, smoothed and faded out where ``mask`` is off."""
    flows = []
    for rec, dec in zip(reconstruction, decoded):
        f = cv2.calcOpticalFlowFarneback(gray(dec), gray(rec), None, pyr_scale=0.5, levels=3, winsize=FLOW_WINDOW,
                                         iterations=5, poly_n=5, poly_sigma=1.1, flags=0)
        flows.append(torch.from_numpy(cv2.GaussianBlur(f, (0, 0), FLOW_SMOOTH)).permute(2, 0, 1))
    reach = F.avg_pool2d(mask.float(), FLOW_REACH, stride=1, padding=FLOW_REACH // 2)
    return torch.stack(flows) * reach


def moved_edit(reconstruction: torch.Tensor, decoded: torch.Tensor, mask: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """(flow, mask): the flow of :func:`edit_flow`, and ``mask`` kept only where the moved
    reconstruction does not explain the decoded edit (fading in up to :data:`UNEXPLAINED`)."""
    flow = edit_flow(reconstruction, decoded, mask)
    left = (warp(reconstruction.float(), flow) - decoded.float()).abs().mean(1, keepdim=True)
    left = F.avg_pool2d(left, 5, stride=1, padding=2)
    return flow, mask * (left / UNEXPLAINED).clamp(0, 1)
