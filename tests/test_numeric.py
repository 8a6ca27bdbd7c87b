"""spinglass._numeric.logsumexp against scipy's, and the start-up it saves (scipy.special stays unloaded)."""

import subprocess
import sys

import numpy as np
import pytest
import scipy.special

from spinglass._numeric import logsumexp


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_logsumexp_equals_scipy_with_infinite_entries(axis):
    a = np.random.default_rng(0).normal(size=(5, 7)) * 1000.0  # exp overflows without the shift
    a[1, :] = -np.inf
    a[2, 3] = -np.inf
    with np.errstate(divide="ignore"):
        want = scipy.special.logsumexp(a, axis=axis)
    got = logsumexp(a, axis=axis)
    assert np.shape(got) == np.shape(want)
    assert np.allclose(got, want, rtol=1e-14, atol=0.0)
    # mutant: without the max shift the same inputs overflow
    with np.errstate(over="ignore", divide="ignore"):
        naive = np.log(np.sum(np.exp(a), axis=axis))
    assert not np.allclose(naive, want, rtol=1e-14, atol=0.0)


def test_import_spinglass_leaves_scipy_special_unloaded():
    code = "import sys, spinglass, samplers; print('scipy.special' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"
