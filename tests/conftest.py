"""What several test modules share."""

from __future__ import annotations

from pathlib import Path

import pytest
from jax import random


@pytest.fixture(params=[random.PRNGKey, random.key], ids=["legacy PRNGKey", "typed key"])
def make_key(request):
    """A function of a seed that makes a key: each test that takes it runs with both kinds of key."""
    return request.param


@pytest.fixture(scope="session")
def run_folder(tmp_path_factory, worker_id: str) -> Path:
    """The run's temporary folder, shared by its pytest-xdist workers: where a fixture made once per run keeps what
    it made, under a file lock (else each worker that needs it makes it again)."""
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent
