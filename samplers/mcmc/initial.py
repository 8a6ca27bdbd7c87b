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
