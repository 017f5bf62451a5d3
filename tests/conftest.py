"""Shared fixtures: the smoke subset of MNIST, loaded once per test session on the CPU."""
import pytest

from era_mnist.utils import load_mnist


@pytest.fixture(scope="session")
def smoke_data():
    return load_mnist("cpu", smoke=True)


@pytest.fixture
def smoke_mode(monkeypatch):
    monkeypatch.setenv("ERA_MNIST_SMOKE", "1")
