"""Layer tables: torchsummary's, and the receptive field computed from the model's own modules."""
import copy
from dataclasses import dataclass

import torch
import torch.nn as nn
import torchsummary

_SPATIAL = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)


def summary(model, input_size=(1, 28, 28)):
    """Print torchsummary's layer table on the device the model lives on.

    The model's weights, BatchNorm statistics and the random-number state are left as they were.
    """
    device = next(model.parameters()).device
    state = copy.deepcopy(model.state_dict())
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torchsummary.summary(model, input_size, device=device.type)
    model.load_state_dict(state)


def _pair(v):
    return v[0] if isinstance(v, (tuple, list)) else v


@dataclass
class RFRow:
    """One spatial layer: its kernel, stride, padding and dilation, and what comes out of it."""
    layer: str
    kind: str
    kernel: int
    stride: int
    padding: int
    dilation: int
    size: int   # output height (= width)
    jump: int   # input pixels between neighbouring outputs
    rf: int     # receptive field, in input pixels


def receptive_field_table(model, input_size=(1, 28, 28)):
    """One RFRow per convolution and pooling layer, in the order the forward pass runs them.

    The layers and their order come from a forward pass with hooks; kernel, stride, padding
    and dilation are read from each module (an adaptive pool's kernel is its input size).
    rf_out = rf_in + (kernel - 1) * dilation * jump_in; jump_out = jump_in * stride.
    """
    names = {m: n for n, m in model.named_modules()}
    calls = []
    hooks = [m.register_forward_hook(lambda m, i, o: calls.append((m, i[0].shape[-1], o.shape[-1])))
             for m in model.modules() if isinstance(m, _SPATIAL)]
    device = next(model.parameters()).device
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *input_size, device=device))
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    rows, rf, jump = [], 1, 1
    for module, size_in, size_out in calls:
        if isinstance(module, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
            kernel, stride, padding, dilation = size_in, size_in, 0, 1
        else:
            kernel, stride, padding = (_pair(module.kernel_size), _pair(module.stride),
                                       _pair(module.padding))
            dilation = _pair(getattr(module, "dilation", 1))
        rf += (kernel - 1) * dilation * jump
        jump *= stride
        rows.append(RFRow(names[module], type(module).__name__, kernel, stride, padding, dilation,
                          size_out, jump, rf))
    return rows


def format_receptive_field_table(rows):
    """The table as text, one line per layer, and what its columns mean."""
    lines = [f"{'layer':<12}{'type':<18}{'k':>3}{'s':>3}{'p':>3}{'d':>3}{'out':>6}{'jump':>6}{'RF':>5}"]
    lines += [f"{r.layer:<12}{r.kind:<18}{r.kernel:>3}{r.stride:>3}{r.padding:>3}{r.dilation:>3}"
              f"{r.size:>6}{r.jump:>6}{r.rf:>5}" for r in rows]
    lines.append("k kernel, s stride, p padding, d dilation; out: the output's height (= width); jump: input "
                 "pixels between two neighbouring outputs; RF: the input pixels one output sees (its side)")
    return "\n".join(lines)
