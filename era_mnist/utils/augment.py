"""Batched per-sample augmentation on the device: one affine_grid + grid_sample per batch."""
import math

import torch
import torch.nn.functional as F


def augment_rotate(x, max_degrees, max_shift=0.0, fill=0.0, generator=None):
    """Rotate each image of ``x`` (N, C, H, W) by its own random angle in +-``max_degrees``.

    ``max_shift`` adds a random translation of up to that fraction of the image size in
    each direction. Pixels that come in from outside the image take the value ``fill``
    (the normalised background, so a rotated digit keeps a blank border).
    """
    n = x.shape[0]
    u = torch.rand(n, 3, device=x.device, generator=generator) * 2 - 1  # uniform in [-1, 1)
    angle = u[:, 0] * math.radians(max_degrees)
    cos, sin = angle.cos(), angle.sin()
    shift = u[:, 1:] * (2 * max_shift)  # grid units: the image spans [-1, 1]
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1),
                         torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x - fill, grid, mode="bilinear", padding_mode="zeros",
                         align_corners=False) + fill


def rotation(max_degrees, max_shift=0.0, fill=0.0):
    """An ``augment(batch, generator)`` function for ``DeviceLoader``; None when it would do nothing."""
    if not max_degrees and not max_shift:
        return None
    return lambda x, generator: augment_rotate(x, max_degrees, max_shift, fill, generator)
