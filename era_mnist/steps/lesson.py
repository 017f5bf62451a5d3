"""What a notebook teaches, shown from the code itself: the source of a step's network and what
changed since the step before (its network code, its layers and its training). One source of
truth: the notebooks print era_mnist.model, never a copy of it."""
import difflib
import inspect
import re
from dataclasses import dataclass

from .table import (STEPS, model_classes, network_name, network_parts, parameters, step_number,
                     training_changes, used_functions)


@dataclass(frozen=True)
class Listing:
    """Text that a notebook shows as markdown, code as a highlighted block of ``language`` (None:
    the text is markdown itself), and a terminal as plain text."""
    text: str
    language: str | None = "python"

    def __repr__(self):
        return self.text

    def _repr_markdown_(self):
        return f"```{self.language}\n{self.text}\n```" if self.language else self.text


def network_classes(step):
    """The classes in era_mnist.model that a step's network is made of: its own and its bases there,
    the base first."""
    return model_classes(network_parts(step)[0])[::-1]


def network_source(step):
    """The code of a step's network: the layer functions its classes call, its classes (bases
    first), and the call the step table makes."""
    classes = "\n\n".join(inspect.getsource(c) for c in network_classes(step))
    helpers = [inspect.getsource(f) for f in used_functions(network_classes(step)).values()]
    return "\n\n".join(helpers + [classes]) + f"\n\n# step {step_number(step)}'s network:\n{network_name(step)}\n"


def show_network(step):
    """The step's network code, highlighted in a notebook."""
    return Listing(network_source(step))


_DEFAULTS = re.compile(r", (stride=\(1, 1\)|padding=0|dilation=1|ceil_mode=False|inplace=False|eps=1e-05|momentum=0.1"
                       r"|affine=True|track_running_stats=True)")


def layer_lines(step):
    """One line per layer of a step's network: its name, the layer as torch prints it (without
    the settings left at their defaults) and its parameter count."""
    model = STEPS[step_number(step)].network()
    return [f"{name:<10} {_DEFAULTS.sub('', repr(module)):<58} {sum(p.numel() for p in module.parameters()):>7,}"
            for name, module in model.named_modules() if name and not list(module.children())]


def show_source(obj):
    """The code of a function or class of era_mnist, highlighted in a notebook: what a lesson
    points at (step 1: the training loop that every run uses)."""
    return Listing(inspect.getsource(obj))


def _diff(before, after, old, new):
    return list(difflib.unified_diff(before, after, old, new, lineterm="", n=1))


def changes(step, since=None):
    """What step ``step`` changes from step ``since`` (default: the step it builds on), as diff text:
    its training settings, the network code (unified diff of ``network_source``) and its layers
    (of ``layer_lines``)."""
    n = step_number(step)
    if n == 1:
        return f"Step 1 is the start: nothing came before it.\nTraining: {training_changes(1)}"
    b = STEPS[n].base if since is None else step_number(since)
    old, new = f"step {b}: {network_name(b)}", f"step {n}: {network_name(n)}"
    lines = [f"Training: {training_changes(n, b)}",
             f"Network: {network_name(b)} -> {network_name(n)}, "
             f"{parameters(STEPS[b].config):,} -> {parameters(STEPS[n].config):,} parameters", ""]
    code = _diff(network_source(b).splitlines(), network_source(n).splitlines(), old, new)
    layers = _diff(layer_lines(b), layer_lines(n), old, new)
    lines += code or ["(the network code is the same)"]
    lines += [""] + (layers or ["(the layers are the same)"])
    return "\n".join(lines)


def show_changes(step, since=None):
    """``changes`` as a highlighted diff in a notebook."""
    return Listing(changes(step, since), "diff")
