"""Shared fixtures: the smoke subset of MNIST, loaded once per test session on the CPU, and a
user's own session with the repository moved to a temporary folder."""
from dataclasses import replace

import pytest

from era_mnist.utils import load_mnist, paths


@pytest.fixture(scope="session")
def smoke_data():
    return load_mnist("cpu", smoke=True)


@pytest.fixture
def smoke_mode(monkeypatch):
    monkeypatch.setenv("ERA_MNIST_SMOKE", "1")


@pytest.fixture
def tiny_data(smoke_data):
    """A few hundred images labelled as the whole set: a user's full run in seconds."""
    return replace(smoke_data, train_x=smoke_data.train_x[:256], train_y=smoke_data.train_y[:256],
                   test_x=smoke_data.test_x[:128], test_y=smoke_data.test_y[:128], smoke=False)


@pytest.fixture
def user_repo(monkeypatch, tmp_path):
    """A user's own session (neither smoke nor evidence mode; the CLI may set either, and this
    undoes it) whose repository root is ``tmp_path``: where its runs go, nothing else is touched."""
    monkeypatch.setenv("ERA_MNIST_SMOKE", "")
    monkeypatch.setenv("ERA_MNIST_EVIDENCE", "")
    monkeypatch.setattr(paths, "REPO_ROOT", tmp_path)
    return tmp_path
