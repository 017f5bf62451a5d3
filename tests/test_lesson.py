import pytest
import torch.nn as nn
import torch.nn.functional as F

from era_mnist.steps import STEPS, network_name, parameters
from era_mnist.steps.lesson import changes, network_source, show_network


@pytest.mark.parametrize("step", list(STEPS))
def test_the_code_a_notebook_shows_builds_its_network(step):
    scope = {"nn": nn, "F": F}
    exec(network_source(step), scope)  # the shown code alone, nothing else from era_mnist.model
    shown = eval(network_name(step), scope)
    assert sum(p.numel() for p in shown.parameters()) == parameters(STEPS[step].config)
    if "SlimNet" in scope:  # the functions of the branch the step does not take are shown too
        scope["SlimNet"](separable=True)
    assert show_network(step)._repr_markdown_() == f"```python\n{network_source(step)}\n```"


def test_the_changes_name_what_the_step_changes():
    removed = [line for line in changes(8).splitlines() if line.startswith("-") and not line.startswith("---")]
    assert any("Dropout(p=0.1)" in line for line in removed)  # step 8 drops the dropout
    assert changes(8).startswith("Training: none\nNetwork: CapacityNet(dropout=0.1) -> CapacityNet(), 7,884 -> 7,884")
    assert changes(10).startswith("Training: batch_size=128, nesterov=True, scheduler=onecycle")
    assert "(the layers are the same)" in changes(10)
    added = [line for line in changes(6).splitlines() if line.startswith("+")]
    assert any(line.startswith("+class GapNet(BatchNormNet):") for line in added)
    assert any(line.startswith("+gap ") for line in added) and "-head " in changes(6)
    assert changes(1).startswith("Step 1 is the start")


def test_changes_since_an_earlier_step_add_up_the_steps_between():
    assert changes(10, since=8).startswith("Training: batch_size=128, nesterov=True, rotation=7")
    assert changes(10, since=9) == changes(10)
