"""Initial chain states shared by the discrete samplers (numba ``Metropolis`` family, ``TorchMetropolis``)."""

from __future__ import annotations

import numpy as np

from spinglass.base import Model


def initial_configurations(model: Model, n_chains: int, init, rng: np.random.Generator,
                           copies: int = 1) -> np.ndarray:
    """Starting configurations, shape (n_chains * copies, n), in the model's alphabet (possibly a read-only
    broadcast view).

    ``init``: "random" (n_chains * copies i.i.d. draws from the prior, from ``rng``), "planted" (the planted
    configuration in every row), an array (n,) (in every row) or (n_chains, n) (row c repeated ``copies``
    times, e.g. once per tempering replica).
    """
    n = model.n
    rows = n_chains * copies
    if isinstance(init, str):
        if init == "random":
            return model.random_configuration(rows, seed=rng)
        if init == "planted":
            if model.planted is None:
                raise ValueError(f"init='planted' but {model.family} has no planted configuration")
            return np.broadcast_to(model.planted, (rows, n))
        raise ValueError(f"init must be 'random', 'planted' or an array, got {init!r}")
    x0 = np.asarray(init)
    if x0.shape == (n,):
        return np.broadcast_to(x0, (rows, n))
    if x0.shape == (n_chains, n):
        return np.repeat(x0, copies, axis=0)
    raise ValueError(f"init array must have shape ({n},) or ({n_chains}, {n}), got {x0.shape}")


def _random_indices_by_cdf(weights: np.ndarray, rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Alphabet indices of ``rng.choice(values, size=shape, p=weights)`` without the values: numpy's choice
    with ``p`` draws u = ``rng.random(shape)`` and returns index #{k : cdf_k <= u} (``searchsorted`` on the
    right of cdf = cumsum(p) / sum(p)); the same draws and the same comparisons give the same indices."""
    cdf = np.asarray(weights, dtype=np.float64).cumsum()
    cdf /= cdf[-1]
    u = rng.random(shape)
    if cdf.size == 2:  # cdf[1] = 1 > u always: the index is [u >= cdf[0]]
        return (u >= cdf[0]).view(np.int8)
    return cdf.searchsorted(u, side="right").astype(np.int8)


def _draws_like_discrete_prior(model: Model) -> bool:
    """Whether ``model.random_configuration`` is ``DiscretePrior.sample`` of the model's own alphabet, i.e.
    ``rng.choice(prior.values, size, p=prior.weights)`` (then ``_random_indices_by_cdf`` reproduces it)."""
    from spinglass.priors import DiscretePrior
    from spinglass.scalar import ScalarModel

    prior = getattr(model, "prior", None)
    return (isinstance(model, ScalarModel) and type(model)._sample_prior is ScalarModel._sample_prior
            and type(model).random_configuration is Model.random_configuration
            and isinstance(prior, DiscretePrior) and type(prior).sample is DiscretePrior.sample
            and model.alphabet is prior.values)


def initial_indices(model: Model, n_chains: int, init, rng: np.random.Generator, copies: int = 1) -> np.ndarray:
    """Alphabet indices (int8, C-contiguous, shape (n_chains * copies, n)) of the starting configurations:
    the same array as ``check_configurations_on_alphabet(model, initial_configurations(...))``, drawing the
    same random numbers, but without building and re-validating the configurations when ``init="random"``
    on a finite prior (the indices come straight from the draws) and with the planted configuration's
    indices computed once per model (``model.derived()``)."""
    from spinglass.exact import check_configurations_on_alphabet

    rows = n_chains * copies
    if isinstance(init, str) and init == "random" and _draws_like_discrete_prior(model):
        return _random_indices_by_cdf(model.prior.weights, rng, (rows, model.n))
    if isinstance(init, str) and init == "planted" and model.planted is not None and model.alphabet is not None:
        cache = model.derived()
        if "planted_indices" not in cache:
            idx = check_configurations_on_alphabet(model, np.asarray(model.planted)[None, :])[0]
            idx.flags.writeable = False
            cache["planted_indices"] = idx
        # a fresh writable array (np.ascontiguousarray would hand back the read-only view itself when rows = 1)
        return np.repeat(cache["planted_indices"][None, :], rows, axis=0)
    x0 = initial_configurations(model, n_chains, init, rng, copies=copies)
    return np.ascontiguousarray(check_configurations_on_alphabet(model, x0))
