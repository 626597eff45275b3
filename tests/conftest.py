"""What several test modules share."""

from __future__ import annotations

import pytest
from jax import random


@pytest.fixture(params=[random.PRNGKey, random.key], ids=["legacy PRNGKey", "typed key"])
def make_key(request):
    """A function of a seed that makes a key: each test that takes it runs with both kinds of key."""
    return request.param
