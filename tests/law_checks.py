"""Shared statistical check of a sampler's law against exact enumeration (used by the MCMC order tests).

The enumerated states are binned into cells (energy decile of the exact law x magnetisation), and the
total-variation distance between the samples' cell histogram and the exact cell law is compared with
1.1 x the 0.999 quantile of the same distance for exact i.i.d. samples of the same size (200 multinomial
draws, seed 0).
"""

from __future__ import annotations

import numpy as np


def cells_of(exact):
    """Cell of each enumerated state: (energy decile of the exact law, magnetisation)."""
    e = exact.energies
    order = np.argsort(e)
    cdf = np.cumsum(exact.probabilities[order])
    edges = np.unique(e[order][np.searchsorted(cdf, np.linspace(0.1, 0.9, 9))])
    ebin = np.searchsorted(edges, e, side="right")
    m = exact.configurations.sum(axis=1).astype(int) + exact.model.n
    return ebin * (2 * exact.model.n + 1) + m


def cell_tv_and_bound(exact, x) -> tuple[float, float]:
    """(TV of the samples' cell histogram to the exact cell law, the bound)."""
    cells = cells_of(exact)
    _, cells = np.unique(cells, return_inverse=True)
    p = np.bincount(cells, weights=exact.probabilities)
    hist = np.bincount(cells[exact.index(x)], minlength=p.size) / x.shape[0]
    rng = np.random.default_rng(0)
    null = 0.5 * np.abs(rng.multinomial(x.shape[0], p, size=200) / x.shape[0] - p).sum(axis=1)
    return 0.5 * np.abs(hist - p).sum(), 1.1 * np.quantile(null, 0.999)


def assert_law_and_mutant(model, make_sampler, n_samples: int, mutant: bool = True) -> None:
    """The sampler's law on ``model`` passes the cell check; with ``mutant``, the same sampler on the model
    at doubled beta (a deliberately wrong chain) fails it."""
    import copy

    exact = model.exact()
    result = make_sampler().sample(model, n_samples, seed=5)
    tv, bound = cell_tv_and_bound(exact, result.x)
    assert tv < bound, f"TV {tv:.4f} >= bound {bound:.4f}"
    if mutant:
        wrong_model = copy.copy(model)
        wrong_model.beta = 2.0 * model.beta
        wrong = make_sampler().sample(wrong_model, n_samples, seed=5)
        tv_wrong, _ = cell_tv_and_bound(exact, wrong.x)
        assert tv_wrong > bound, f"mutant not detected: TV {tv_wrong:.4f} <= {bound:.4f}"


def assert_resume_and_threads_change_no_number(sampler, model) -> None:
    """10 + 15 sweeps continued through ``Samples.state`` equal 25 at once; ``threads=2`` equals one
    thread; another seed gives other samples (``sampler.sweeps`` must be 25)."""
    import copy

    whole = sampler.sample(model, 4, seed=9)
    first = copy.copy(sampler)
    first.sweeps = 10
    part = first.sample(model, 4, seed=9)
    second = copy.copy(sampler)
    second.sweeps = 15
    rest = second.sample(model, 4, state=part.state)
    np.testing.assert_array_equal(whole.x, rest.x)
    np.testing.assert_array_equal(whole.trace["energy"][:, 10:], rest.trace["energy"])
    threaded = copy.copy(sampler)
    threaded.threads = 2
    np.testing.assert_array_equal(whole.x, threaded.sample(model, 4, seed=9).x)
    assert not np.array_equal(whole.x, sampler.sample(model, 4, seed=10).x)
