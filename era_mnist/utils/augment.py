"""Batched per-sample augmentation on the device (rotation, shift, zoom): one affine_grid + grid_sample
per batch."""
import math

import torch
import torch.nn.functional as F


def affine(x, degrees, shift=None, fill=0.0, scale=None):
    """Turn image i of ``x`` (N, C, H, W) by ``degrees[i]`` about the centre (counter-clockwise
    on the screen), zoom it by ``scale[i]`` (1: unchanged) and shift it by minus ``shift[i]``
    (fractions of the image size, x and y): the grid says where each output pixel reads the
    input, so the content moves the other way. Pixels that come in from outside take the value
    ``fill``."""
    angle = degrees * (math.pi / 180)
    cos, sin = angle.cos(), angle.sin()
    if scale is not None:  # the grid samples the input: a zoom by s reads 1/s as far out
        cos, sin = cos / scale, sin / scale
    shift = torch.zeros(len(x), 2, device=x.device) if shift is None else shift * 2  # grid spans [-1, 1]
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1),
                         torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x - fill, grid, mode="bilinear", padding_mode="zeros",
                         align_corners=False) + fill


def random_affine(x, max_degrees, max_shift=0.0, fill=0.0, generator=None, max_scale=0.0):
    """Rotate each image by its own random angle in +-``max_degrees`` and, with ``max_shift``,
    shift it by up to that fraction of the image in each direction, with ``max_scale`` zoom it
    by 1 +- up to that fraction; ``fill`` is the (normalised) background, so a rotated digit
    keeps a blank border. Without a zoom the random numbers drawn are those of earlier runs."""
    u = torch.rand(len(x), 4 if max_scale else 3, device=x.device, generator=generator) * 2 - 1  # in [-1, 1)
    scale = 1 + u[:, 3] * max_scale if max_scale else None
    return affine(x, u[:, 0] * max_degrees, u[:, 1:3] * max_shift, fill, scale)


def augmentation(config, fill=0.0):
    """The training batches' ``augment(batch, generator)`` for ``DeviceLoader``, as ``config``'s
    rotation, max_shift and max_scale say; None when it would do nothing."""
    if not config.rotation and not config.max_shift and not config.max_scale:
        return None
    return lambda x, generator: random_affine(x, config.rotation, config.max_shift, fill, generator, config.max_scale)
