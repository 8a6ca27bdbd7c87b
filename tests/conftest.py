"""Shared fixtures."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def torch_one_thread():
    """Run a test module's torch work on one thread (restored afterwards).

    On a shared 2-core machine torch's default intra-op threads make the small networks of the tests
    20-100x slower per step (thread hand-off dominates); results are identical with one thread.
    """
    torch = pytest.importorskip("torch")
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
