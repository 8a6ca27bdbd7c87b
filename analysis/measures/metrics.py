r"""Metrics: how close a set of samples is to the target law, and how efficiently a chain produced them.

Conventions (docs/physics.md §5-§6).  A batch of configurations is an array ``x`` of shape (..., N), one
configuration per row, on the model's alphabet (reals for scalar models, integer colours 0..q-1 for Potts).

Observables
    energy per variable     e(x) = E(x) / N with E the model's Hamiltonian (``model.energy``, not times beta)
    magnetisation           m(x) = (1/N) sum_i x_i
    overlap                 R(x, y) = (1/N) sum_i x_i y_i; ``symmetry="sign"`` returns |R| (for laws invariant
                            under x -> -x); for Potts colourings ``symmetry="permutation"`` returns
                            max_pi (q A_pi(x, y) - 1)/(q - 1), A_pi = (1/N) #{i : x_i = pi(y_i)}, the fraction of
                            agreeing sites after the best relabelling pi of y's colours (1 for equal colourings
                            up to relabelling, ≈ 0 for independent uniform ones).
Distances between laws
    total variation         TV(p, q) = (1/2) sum_s |p_s - q_s|
    Kullback-Leibler        KL(p || q) = sum_s p_s log(p_s / q_s), 0 log 0 = 0, +inf if q_s = 0 < p_s
    Wasserstein-1 (1-d)     W1(a, b) = ∫ |F_a(t) - F_b(t)| dt between the empirical CDFs of two samples
MCMC efficiency (a series of shape (T,) or (n_chains, T), T the number of recorded steps per chain)
    autocorrelation         rho(k) = C(k)/C(0), C(k) the chain-averaged biased autocovariance
                            C(k) = (1/n_chains) sum_c (1/T) sum_{t<T-k} (y_ct - ybar_c)(y_c,t+k - ybar_c)
    integrated autocorr.    tau_int = 1 + 2 sum_{k=1}^{M} rho(k), window M by Sokal's rule
                            (so that i.i.d. draws give 1 and an AR(1) series with coefficient a gives
                            (1 + a)/(1 - a); this is twice Sokal's own 1/2 + sum convention)
    effective sample size   ESS = n_chains T / tau_int
    split R-hat             Gelman et al., Bayesian Data Analysis (3rd ed.), §11.4
Planted models
    Nishimori gap           E[R(x, x*)] - E[R(x, x')] over samples x, x' and the planted x*; the Nishimori
                            identity makes it vanish (up to finite-size and sampling noise) for exact
                            posterior samples, so a sampler that misses the posterior shows a gap.
"""

from __future__ import annotations

import itertools
import math
import numbers
import warnings

import numpy as np
import scipy.fft
from scipy.optimize import linear_sum_assignment
from scipy.special import rel_entr
from scipy.stats import wasserstein_distance

from spinglass import ExactDistribution
from spinglass._validate import SeedLike, check_int, check_real, make_rng
from spinglass.base import GlobalTerm
from spinglass.priors import DiscretePrior, Gaussian, Prior
from spinglass.scalar import PSpinModel, ScalarModel
from spinglass.sparse import NAESATModel, PottsModel

__all__ = [
    "energy_per_variable",
    "magnetization",
    "overlap",
    "default_symmetry",
    "overlap_with_planted",
    "replica_overlaps",
    "overlap_distribution",
    "total_variation",
    "kl_divergence",
    "empirical_tv",
    "empirical_kl",
    "tv_null_quantile",
    "wasserstein1",
    "autocorrelation",
    "integrated_autocorrelation_time",
    "effective_sample_size",
    "rhat",
    "nishimori_gap",
]

SYMMETRIES = ("sign", "none", "permutation")

#: Largest number of replica pairs computed when ``max_pairs`` is not given (guards against O(S^2) memory).
MAX_ALL_PAIRS = 1 << 23
#: Subsampled pairs are drawn from the full list of pairs up to this many pairs, by rejection above.
_ENUMERATE_MAX_PAIRS = 1 << 22
#: Up to this many colours the best colour permutation is found by enumerating all q! permutations
#: (vectorised over rows); above it by the Hungarian algorithm, one row at a time.
_ENUMERATE_MAX_Q = 5
#: Rough number of array entries processed per chunk (bounds temporary memory).
_CHUNK_ENTRIES = 1 << 22
#: integrated_autocorrelation_time warns when a chain is shorter than this many tau_int.
_MIN_LENGTH_IN_TAU = 50.0
#: Tolerance on the normalisation of probability tables.
_PROB_ATOL = 1e-6


# -- argument checks ---------------------------------------------------------------------------------


def _real_array(name: str, value, *, min_ndim: int = 1, max_ndim: int | None = None) -> np.ndarray:
    """``value`` as a float array after checking dtype, dimensions, emptiness and finiteness."""
    arr = np.asarray(value)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real, got dtype {arr.dtype}")
    if arr.ndim < min_ndim or (max_ndim is not None and arr.ndim > max_ndim):
        allowed = f"{min_ndim}" if max_ndim == min_ndim else f"{min_ndim}..{max_ndim if max_ndim else 'any'}"
        raise ValueError(f"{name} must have {allowed} dimensions, got shape {arr.shape}")
    if arr.size == 0 or (arr.ndim and arr.shape[-1] == 0):
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    arr = arr.astype(float, copy=False)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return arr


def _check_model(model) -> None:
    if not (hasattr(model, "energy") and hasattr(model, "n")):
        raise TypeError(f"model must be a spinglass model (with .energy and .n), got {type(model).__name__}")


def _check_symmetry(symmetry) -> str:
    if not isinstance(symmetry, str):
        raise TypeError(f"symmetry must be one of {SYMMETRIES}, got {type(symmetry).__name__}")
    if symmetry not in SYMMETRIES:
        raise ValueError(f"symmetry must be one of {SYMMETRIES}, got {symmetry!r}")
    return symmetry


def _colours(name: str, arr: np.ndarray, q: int) -> np.ndarray:
    """Integer colours in 0..q-1 from a float array (``ValueError`` otherwise)."""
    if np.any(arr != np.round(arr)):
        raise ValueError(f"{name} must hold integer colours for symmetry='permutation'")
    if arr.min() < 0 or arr.max() > q - 1:
        raise ValueError(f"{name} must hold colours in 0..{q - 1} (q = {q})")
    return arr.astype(np.int64)


def _check_series(series) -> np.ndarray:
    """A series of shape (T,) or (n_chains, T) as a 2-d float array (n_chains, T)."""
    arr = _real_array("series", series, min_ndim=1, max_ndim=2)
    return arr[None, :] if arr.ndim == 1 else arr


def _check_probability_table(name: str, p) -> np.ndarray:
    arr = _real_array(name, p, min_ndim=1)
    if np.any(arr < 0):
        raise ValueError(f"{name} must have non-negative entries")
    total = arr.sum()
    if abs(total - 1.0) > _PROB_ATOL:
        raise ValueError(f"{name} must sum to 1 (a probability table), sums to {total:.9g}")
    return arr


def _check_exact(exact) -> ExactDistribution:
    if not isinstance(exact, ExactDistribution):
        raise TypeError(f"exact must be a spinglass.ExactDistribution (model.exact()), got {type(exact).__name__}")
    return exact


# -- observables -------------------------------------------------------------------------------------


def energy_per_variable(model, x) -> np.ndarray:
    """Energy per variable e(x) = E(x)/N of each configuration.

    ``E`` is the model's Hamiltonian ``model.energy`` (docs/physics.md §1; not multiplied by beta; for Potts
    models the number of monochromatic edges).  ``x`` has shape (..., N); the result has shape (...)
    (a 0-d value for a single configuration).
    """
    _check_model(model)
    x = np.asarray(x)
    if x.ndim == 0 or x.shape[-1] != model.n:
        raise ValueError(f"x must have last axis of length n = {model.n}, got shape {x.shape}")
    _real_array("x", x)
    return np.asarray(model.energy(x), dtype=float) / model.n


def energy_nishimori_gap(model, x) -> float:
    r"""Mean energy per variable of the samples minus that of the planted configuration.

    gap = mean_a E(x_a)/N - E(x*)/N.  For a Bayes-optimal posterior (the model at its Nishimori point,
    beta = 1 for the spiked models) x* is itself distributed as a posterior sample given the data, so
    E_x~posterior[E(x)] = E[E(x*)] and exact samples have gap ≈ 0 up to O(N^-1/2) instance fluctuations.
    Unlike the overlap form (``nishimori_gap``), it also detects samplers whose samples are mutually
    uncorrelated *and* uncorrelated with x* (both overlaps ≈ 0) while the posterior is informative:
    such samples sit at the wrong energy.  Raises ``ValueError`` when the model has no planted configuration.
    """
    _check_model(model)
    if getattr(model, "planted", None) is None:
        raise ValueError(f"model ({type(model).__name__}) has no planted configuration (model.planted is None)")
    return float(np.mean(energy_per_variable(model, x)) - energy_per_variable(model, model.planted))


def magnetization(x) -> np.ndarray:
    """Magnetisation m(x) = (1/N) sum_i x_i, the mean over the last axis of ``x`` (shape (..., N))."""
    return _real_array("x", x).mean(axis=-1)


def _best_agreement(counts: np.ndarray) -> np.ndarray:
    """max over permutations pi of sum_b counts[..., pi(b), b] for a (B, q, q) stack of count matrices."""
    b, q, _ = counts.shape
    if q <= _ENUMERATE_MAX_Q:
        perms = np.array(list(itertools.permutations(range(q))))  # (q!, q): pi(b) = perms[:, b]
        scores = counts[:, perms, np.arange(q)].sum(axis=-1)  # (B, q!)
        return scores.max(axis=1)
    best = np.empty(b, dtype=counts.dtype)
    for r in range(b):
        rows, cols = linear_sum_assignment(counts[r], maximize=True)
        best[r] = counts[r][rows, cols].sum()
    return best


def _permutation_overlap(x: np.ndarray, y: np.ndarray, q: int) -> np.ndarray:
    """Row-wise colour-permutation-invariant overlap of two (B, N) integer colour arrays."""
    n_rows, n = x.shape
    out = np.empty(n_rows)
    chunk = max(1, _CHUNK_ENTRIES // max(n, q * q))
    for start in range(0, n_rows, chunk):
        xs, ys = x[start : start + chunk], y[start : start + chunk]
        b = xs.shape[0]
        # counts[r, a, c] = #{i : x_ri = a, y_ri = c}, all rows at once through one bincount
        codes = xs * q + ys + (np.arange(b, dtype=np.int64) * (q * q))[:, None]
        counts = np.bincount(codes.ravel(), minlength=b * q * q).reshape(b, q, q)
        agree = _best_agreement(counts) / n
        out[start : start + chunk] = (q * agree - 1.0) / (q - 1.0)
    return out


def overlap(x, y, symmetry: str = "sign", q: int | None = None) -> np.ndarray:
    r"""Row-wise overlap between configurations ``x`` and ``y`` (shapes (..., N), broadcast over rows).

    * ``"none"``:  R = (1/N) sum_i x_i y_i.
    * ``"sign"``:  |R|, for laws invariant under the global flip x -> -x (Ising models without field,
      spiked Wigner with a symmetric prior, NAE-SAT), where x and -x are the same state.
    * ``"permutation"``: for Potts colourings (integers 0..q-1), the normalised overlap
      max_pi (q A_pi - 1)/(q - 1) with A_pi = (1/N) #{i : x_i = pi(y_i)} maximised over the q! colour
      permutations pi (Hungarian algorithm on the q x q agreement matrix, or enumeration for q <= 5).
      It is 1 when y is a relabelling of x and ≈ 0 for independent uniform colourings (positive, of order
      sqrt(q log q / N), because of the maximisation); its range is [0, 1].  ``q`` defaults to
      max(x, y) + 1 — pass the model's q, since the normalisation depends on it.

    Returns an array of the broadcast leading shape (0-d for two single configurations).
    """
    symmetry = _check_symmetry(symmetry)
    x = _real_array("x", x)
    y = _real_array("y", y)
    if x.shape[-1] != y.shape[-1]:
        raise ValueError(f"x and y must have the same last axis (N), got shapes {x.shape} and {y.shape}")
    try:
        lead = np.broadcast_shapes(x.shape[:-1], y.shape[:-1])
    except ValueError:
        raise ValueError(f"x and y leading shapes do not broadcast: {x.shape} and {y.shape}") from None
    n = x.shape[-1]
    if symmetry == "permutation":
        if q is None:
            q = max(2, int(max(x.max(), y.max())) + 1)
        q = check_int("q", q, minimum=2)
        xc = _colours("x", x, q)
        yc = _colours("y", y, q)
        xb = np.broadcast_to(xc, lead + (n,)).reshape(-1, n)
        yb = np.broadcast_to(yc, lead + (n,)).reshape(-1, n)
        return _permutation_overlap(xb, yb, q).reshape(lead)
    if q is not None:
        raise ValueError("q is only used with symmetry='permutation'")
    if y.ndim == 1:
        r = (x @ y) / n
    elif x.ndim == 1:
        r = (y @ x) / n
    else:
        r = np.einsum("...i,...i->...", x, y) / n
    r = np.asarray(r, dtype=float)
    return np.abs(r) if symmetry == "sign" else r


def _prior_is_symmetric(prior: Prior) -> bool:
    if isinstance(prior, Gaussian):
        return True
    if isinstance(prior, DiscretePrior):
        v, w = np.asarray(prior.values), np.asarray(prior.weights)
        return bool(np.allclose(v, -v[::-1], atol=1e-12) and np.allclose(w, w[::-1], atol=1e-12))
    return False


def _global_term_is_even(term: GlobalTerm) -> bool:
    # e_order(x^power) picks up (-1)^(power * order) under x -> -x
    return (term.power * term.order) % 2 == 0


def default_symmetry(model) -> str:
    """The overlap symmetry under which ``model``'s law is invariant.

    ``"permutation"`` for Potts models (colour relabelling); ``"sign"`` when the law is invariant under the
    global flip x -> -x: NAE-SAT (always), and scalar models whose prior is symmetric (p0(x) = p0(-x)),
    with no field, every p-body coupling of even order (a pairwise model, or a p-spin model with p even)
    and every global term even; ``"none"`` otherwise (e.g. a spiked tensor with p = 3, Curie-Weiss in a
    field, or a model class this function does not know).
    """
    _check_model(model)
    if isinstance(model, PottsModel):
        return "permutation"
    if isinstance(model, NAESATModel):
        return "sign"
    if isinstance(model, ScalarModel):
        even = (
            _prior_is_symmetric(model.prior)
            and not np.any(model.fields)
            and all(_global_term_is_even(t) for t in model.global_terms)
        )
        if isinstance(model, PSpinModel) and model.p % 2 == 1 and np.any(model.weights):
            even = False
        return "sign" if even else "none"
    return "none"


def overlap_with_planted(model, x, symmetry: str | None = None) -> np.ndarray:
    """Overlap of each configuration in ``x`` (shape (..., N)) with the planted configuration.

    ``symmetry=None`` picks ``default_symmetry(model)``: colour permutations for Potts models (with the
    model's q), the global sign for flip-invariant scalar laws, none otherwise.  Raises ``ValueError``
    when ``model.planted`` is None.
    """
    _check_model(model)
    if getattr(model, "planted", None) is None:
        raise ValueError(f"model ({type(model).__name__}) has no planted configuration (model.planted is None)")
    symmetry = default_symmetry(model) if symmetry is None else _check_symmetry(symmetry)
    x = np.asarray(x)
    if x.ndim == 0 or x.shape[-1] != model.n:
        raise ValueError(f"x must have last axis of length n = {model.n}, got shape {x.shape}")
    q = getattr(model, "q", None) if symmetry == "permutation" else None
    return overlap(x, model.planted, symmetry=symmetry, q=q)


# -- replica overlaps --------------------------------------------------------------------------------


def _check_chain(chain, n_rows: int) -> np.ndarray | None:
    if chain is None:
        return None
    c = np.asarray(chain)
    if c.shape != (n_rows,):
        raise ValueError(f"chain must have shape ({n_rows},) (one chain index per row of x), got {c.shape}")
    integral = np.issubdtype(c.dtype, np.integer) or (
        np.issubdtype(c.dtype, np.floating) and bool(np.all(c == np.round(c)))
    )
    if not integral:
        raise TypeError("chain must hold integer chain indices")
    return c.astype(np.int64)


def _select_pairs(n_rows: int, chain: np.ndarray | None, max_pairs: int | None, seed: SeedLike):
    """Index arrays (i, j), i < j, sorted lexicographically, of the replica pairs to use."""
    total = n_rows * (n_rows - 1) // 2
    if chain is None:
        eligible = total
    else:
        _, sizes = np.unique(chain, return_counts=True)
        eligible = total - int(np.sum(sizes * (sizes - 1) // 2))
    if eligible == 0:
        raise ValueError("chain must contain at least two different chains (no pair from different chains)")
    if max_pairs is None or max_pairs >= eligible:
        if eligible > MAX_ALL_PAIRS:
            raise ValueError(f"{eligible} replica pairs exceed MAX_ALL_PAIRS = {MAX_ALL_PAIRS}; pass max_pairs")
        i, j = np.triu_indices(n_rows, 1)
        if chain is not None:
            keep = chain[i] != chain[j]
            i, j = i[keep], j[keep]
        return i, j
    rng = make_rng(seed)
    if total <= _ENUMERATE_MAX_PAIRS:
        i, j = np.triu_indices(n_rows, 1)
        if chain is not None:
            keep = chain[i] != chain[j]
            i, j = i[keep], j[keep]
        pick = np.sort(rng.choice(i.size, size=max_pairs, replace=False))
        return i[pick], j[pick]
    # many more pairs than wanted: draw uniform pairs and keep the first max_pairs distinct eligible ones,
    # which form a uniform random subset of the eligible pairs
    codes = np.empty(0, dtype=np.int64)
    while codes.size < max_pairs:
        m = 2 * (max_pairs - codes.size) + 64
        a = rng.integers(0, n_rows, size=m)
        b = rng.integers(0, n_rows, size=m)
        ok = a != b
        if chain is not None:
            ok &= chain[a] != chain[b]
        new = np.minimum(a, b)[ok] * n_rows + np.maximum(a, b)[ok]
        merged = np.concatenate([codes, new])
        _, first = np.unique(merged, return_index=True)
        codes = merged[np.sort(first)]
    codes = np.sort(codes[:max_pairs])
    return codes // n_rows, codes % n_rows


def replica_overlaps(
    x,
    chain=None,
    max_pairs: int | None = None,
    seed: SeedLike = None,
    *,
    symmetry: str = "none",
    q: int | None = None,
    return_pairs: bool = False,
):
    r"""Two-replica overlaps q_ab = (1/N) x_a · x_b between pairs a < b of distinct rows of ``x`` (S, N).

    ``chain`` (shape (S,), the chain index of each row) restricts the pairs to rows from different chains
    (rows of one MCMC chain are correlated, so they are not independent replicas).  ``max_pairs`` keeps a
    uniform random subset of that many pairs (without replacement, reproducible with ``seed``); without it
    every eligible pair is used (at most ``MAX_ALL_PAIRS``, else ``ValueError``).  ``symmetry`` and ``q``
    are as in :func:`overlap` (default ``"none"``: the signed overlap, whose law P(q) is symmetric for a
    flip-invariant model).  Returns the 1-d array of overlaps in lexicographic (a, b) order, and with
    ``return_pairs=True`` also the index arrays a and b.
    """
    symmetry = _check_symmetry(symmetry)
    x = _real_array("x", x, min_ndim=2, max_ndim=2)
    n_rows, n = x.shape
    if n_rows < 2:
        raise ValueError(f"x must hold at least 2 configurations (rows), got {n_rows}")
    chain = _check_chain(chain, n_rows)
    if max_pairs is not None:
        max_pairs = check_int("max_pairs", max_pairs, minimum=1)
    i, j = _select_pairs(n_rows, chain, max_pairs, seed)
    if symmetry == "permutation":
        if q is None:
            q = max(2, int(x.max()) + 1)
        q = check_int("q", q, minimum=2)
        xc = _colours("x", x, q)
        out = np.empty(i.size)
        chunk = max(1, _CHUNK_ENTRIES // max(n, q * q))
        for s in range(0, i.size, chunk):
            out[s : s + chunk] = _permutation_overlap(xc[i[s : s + chunk]], xc[j[s : s + chunk]], q)
    else:
        if q is not None:
            raise ValueError("q is only used with symmetry='permutation'")
        out = np.empty(i.size)
        if 8 * i.size >= n_rows * n_rows:
            # dense: Gram matrix by blocks of rows (BLAS); pairs are sorted by their first index
            block = max(1, _CHUNK_ENTRIES // n_rows)
            bounds = np.searchsorted(i, np.arange(0, n_rows + block, block))
            for k, start in enumerate(range(0, n_rows, block)):
                lo, hi = bounds[k], bounds[k + 1]
                if lo == hi:
                    continue
                gram = x[start : start + block] @ x.T
                out[lo:hi] = gram[i[lo:hi] - start, j[lo:hi]]
        else:
            chunk = max(1, _CHUNK_ENTRIES // n)
            for s in range(0, i.size, chunk):
                out[s : s + chunk] = np.einsum("pi,pi->p", x[i[s : s + chunk]], x[j[s : s + chunk]])
        out /= n
        if symmetry == "sign":
            np.abs(out, out=out)
    return (out, i, j) if return_pairs else out


def overlap_distribution(
    x,
    bins=50,
    value_range: tuple[float, float] | None = None,
    *,
    chain=None,
    max_pairs: int | None = None,
    seed: SeedLike = None,
    symmetry: str = "none",
    q: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Histogram estimate of the two-replica overlap distribution P(q) from the samples ``x`` (S, N).

    The overlaps are :func:`replica_overlaps` (same ``chain``, ``max_pairs``, ``seed``, ``symmetry``,
    ``q``).  ``bins`` is a number of bins or an array of bin edges (as ``numpy.histogram``);
    ``value_range`` defaults to [-1, 1] for ``symmetry="none"`` and [0, 1] otherwise, widened to cover
    every overlap (non-Ising priors can give |q| > 1).  Returns (bin centres, density), the density
    integrating to 1 over the bins.
    """
    r = replica_overlaps(x, chain=chain, max_pairs=max_pairs, seed=seed, symmetry=symmetry, q=q)
    if isinstance(bins, numbers.Integral) and not isinstance(bins, bool):
        bins = check_int("bins", bins, minimum=1)
    else:
        edges = _real_array("bins", bins, min_ndim=1, max_ndim=1)
        if edges.size < 2 or np.any(np.diff(edges) <= 0):
            raise ValueError("bins must be an int or a strictly increasing array of at least 2 edges")
        bins = edges
    if value_range is None:
        lo, hi = (-1.0, 1.0) if symmetry == "none" else (0.0, 1.0)
        value_range = (min(lo, float(r.min())), max(hi, float(r.max())))
    else:
        if len(value_range) != 2:
            raise ValueError(f"value_range must be a pair (low, high), got {value_range!r}")
        lo = check_real("value_range[0]", value_range[0])
        hi = check_real("value_range[1]", value_range[1])
        if hi <= lo:
            raise ValueError(f"value_range must have low < high, got {value_range!r}")
        value_range = (lo, hi)
    density, edges = np.histogram(r, bins=bins, range=value_range, density=True)
    return 0.5 * (edges[:-1] + edges[1:]), density


# -- distances between laws --------------------------------------------------------------------------


def total_variation(p, q) -> float:
    """Total-variation distance TV(p, q) = (1/2) sum_s |p_s - q_s| between two probability tables.

    ``p`` and ``q`` have the same shape, non-negative entries, and each sums to 1 (within 1e-6).
    """
    p = _check_probability_table("p", p)
    q = _check_probability_table("q", q)
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape, got {p.shape} and {q.shape}")
    return float(0.5 * np.abs(p - q).sum())


def kl_divergence(p, q) -> float:
    """Kullback-Leibler divergence KL(p || q) = sum_s p_s log(p_s / q_s) in nats.

    Terms with p_s = 0 contribute 0 (0 log 0 = 0); the result is +inf when q_s = 0 < p_s for some s.
    ``p`` and ``q`` are probability tables of the same shape (non-negative, each summing to 1).
    """
    p = _check_probability_table("p", p)
    q = _check_probability_table("q", q)
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape, got {p.shape} and {q.shape}")
    return float(max(rel_entr(p, q).sum(), 0.0))


def empirical_tv(exact: ExactDistribution, x) -> float:
    """TV distance between the empirical law of the configurations ``x`` (S, N) and the exact law.

    The empirical law is ``exact.histogram(x)`` over the enumerated states.  Compare it with
    :func:`tv_null_quantile` for the same number of samples: exact i.i.d. samples also sit at a distance
    of order sqrt(#states / S).
    """
    exact = _check_exact(exact)
    return total_variation(exact.histogram(x), exact.probabilities)


def empirical_kl(exact: ExactDistribution, x, direction: str = "empirical||exact") -> float:
    """KL divergence between the empirical law p_hat of the configurations ``x`` and the exact law p.

    ``direction="empirical||exact"`` (default) gives KL(p_hat || p), finite whenever the samples only
    visit states of positive probability; ``"exact||empirical"`` gives KL(p || p_hat), which is +inf as
    soon as one state of positive probability is unvisited (useful only with many samples per state).
    """
    exact = _check_exact(exact)
    if direction not in ("empirical||exact", "exact||empirical"):
        raise ValueError(f"direction must be 'empirical||exact' or 'exact||empirical', got {direction!r}")
    p_hat = exact.histogram(x)
    if direction == "empirical||exact":
        return kl_divergence(p_hat, exact.probabilities)
    return kl_divergence(exact.probabilities, p_hat)


def tv_null_quantile(
    exact: ExactDistribution,
    n_samples: int,
    quantile: float = 0.999,
    repeats: int = 200,
    seed: SeedLike = 0,
) -> float:
    """The ``quantile`` of TV(p_hat, p) when p_hat is the empirical law of ``n_samples`` exact i.i.d. samples.

    Simulated: ``repeats`` independent multinomial(n_samples, p) count vectors (exactly the law of the
    histogram of n_samples i.i.d. draws from p), their TV distances to p, and the empirical quantile
    (``numpy.quantile``, linear interpolation; with repeats = 200 the 0.999 quantile is essentially the
    maximum).  A sampler whose ``empirical_tv`` exceeds this bound is rejected at level ≈ 1 - quantile.
    """
    exact = _check_exact(exact)
    n_samples = check_int("n_samples", n_samples, minimum=1)
    quantile = check_real("quantile", quantile, minimum=0.0, maximum=1.0)
    repeats = check_int("repeats", repeats, minimum=1)
    rng = make_rng(seed)
    p = np.asarray(exact.probabilities, dtype=float)
    p = p / p.sum()
    tvs = np.empty(repeats)
    chunk = max(1, _CHUNK_ENTRIES // p.size)
    for start in range(0, repeats, chunk):
        size = min(chunk, repeats - start)
        counts = rng.multinomial(n_samples, p, size=size)
        tvs[start : start + size] = 0.5 * np.abs(counts / n_samples - p).sum(axis=1)
    return float(np.quantile(tvs, quantile))


def wasserstein1(a, b) -> float:
    """Wasserstein-1 distance W1 = ∫ |F_a(t) - F_b(t)| dt between the empirical laws of two 1-d samples.

    ``a`` and ``b`` are samples (any length) of a scalar observable, e.g. energies per variable of a
    sampler's output and of exact samples.  Computed with ``scipy.stats.wasserstein_distance``.
    """
    a = _real_array("a", a, min_ndim=1, max_ndim=1)
    b = _real_array("b", b, min_ndim=1, max_ndim=1)
    return float(wasserstein_distance(a, b))


# -- MCMC efficiency ---------------------------------------------------------------------------------


def _autocovariance(y: np.ndarray) -> np.ndarray:
    """Chain-averaged biased autocovariance C(k), k = 0..T-1, of a (n_chains, T) array, by FFT."""
    t = y.shape[1]
    yc = y - y.mean(axis=1, keepdims=True)
    nfft = scipy.fft.next_fast_len(2 * t, real=True)
    f = scipy.fft.rfft(yc, n=nfft, axis=1)
    acov = scipy.fft.irfft(f.real**2 + f.imag**2, n=nfft, axis=1)[:, :t] / t
    return acov.mean(axis=0)


def autocorrelation(series) -> np.ndarray:
    r"""Normalised autocorrelation rho(k) = C(k)/C(0), k = 0..T-1, of a series (T,) or (n_chains, T).

    C(k) = (1/n_chains) sum_c (1/T) sum_{t=0}^{T-1-k} (y_ct - ybar_c)(y_c,t+k - ybar_c): each chain is
    centred by its own mean, the biased (1/T) autocovariances are computed by FFT (zero-padded, so no
    wrap-around) and averaged over chains.  A constant series has no defined autocorrelation: the result
    is then all NaN.
    """
    y = _check_series(series)
    if y.shape[1] < 2:
        raise ValueError(f"series must have at least 2 steps per chain, got {y.shape[1]}")
    acov = _autocovariance(y)
    if not acov[0] > 0:
        return np.full(y.shape[1], np.nan)
    return acov / acov[0]


def integrated_autocorrelation_time(series, c: float = 5.0, return_window: bool = False):
    r"""Integrated autocorrelation time with Sokal's automatic window, for a series (T,) or (n_chains, T).

    tau_int(M) = 1 + 2 sum_{k=1}^{M} rho(k), with rho from :func:`autocorrelation`, and the window M is the
    smallest M >= 1 with M >= c tau_int(M) (Sokal, "Monte Carlo methods in statistical mechanics", 1997;
    c = 5 by default).  Convention: tau_int is the factor by which correlations inflate the variance of
    the sample mean, Var(ybar) ≈ tau_int Var(y)/T, so i.i.d. draws give 1 and an AR(1) series
    y_t = a y_{t-1} + noise gives (1 + a)/(1 - a) (twice Sokal's 1/2 + sum convention).  The estimator's
    relative standard deviation is about sqrt(2 (2M + 1) / (n_chains T)).

    A series that is short compared with its autocorrelation time gives a biased-low estimate (the
    centred autocovariances sum to zero over all lags): a ``RuntimeWarning`` is issued when
    T < 50 tau_int per chain (the rule of thumb of emcee) or when no window satisfies Sokal's rule.  A
    constant series gives NaN.  Values below 1 mean anticorrelated samples.  With ``return_window=True``
    returns (tau_int, M).
    """
    c = check_real("c", c, minimum=0.0, strict_min=True)
    y = _check_series(series)
    t = y.shape[1]
    if t < 4:
        raise ValueError(f"series must have at least 4 steps per chain, got {t}")
    rho = autocorrelation(y)
    if np.isnan(rho[0]):
        return (math.nan, 0) if return_window else math.nan
    taus = 1.0 + 2.0 * np.cumsum(rho[1:])  # taus[M - 1] = tau_int(M), M = 1..T-1
    windows = np.arange(1, t)
    ok = np.flatnonzero(windows >= c * taus)
    if ok.size:
        m = int(windows[ok[0]])
    else:
        m = t - 1
        warnings.warn(
            f"integrated_autocorrelation_time: no window M <= {t - 1} satisfies M >= {c} tau_int(M); "
            f"the series is too short for its autocorrelation time (estimate {taus[-1]:.3g} is unreliable)",
            RuntimeWarning,
            stacklevel=2,
        )
    tau = float(taus[m - 1])
    if ok.size and t < _MIN_LENGTH_IN_TAU * tau:
        warnings.warn(
            f"integrated_autocorrelation_time: the series is too short ({t} steps per chain < "
            f"{_MIN_LENGTH_IN_TAU:g} tau_int = {_MIN_LENGTH_IN_TAU * tau:.3g}); the estimate is unreliable",
            RuntimeWarning,
            stacklevel=2,
        )
    return (tau, m) if return_window else tau


def effective_sample_size(series, c: float = 5.0) -> float:
    """Effective sample size ESS = n_chains T / tau_int of a series (T,) or (n_chains, T).

    tau_int from :func:`integrated_autocorrelation_time` (window constant ``c``); i.i.d. draws give
    ESS ≈ n_chains T.  NaN for a constant series, +inf when tau_int <= 0 (perfect anticorrelation).
    """
    y = _check_series(series)
    tau = integrated_autocorrelation_time(y, c=c)
    if math.isnan(tau):
        return math.nan
    return math.inf if tau <= 0 else y.size / tau


def rhat(series) -> float:
    r"""Split-R-hat potential scale reduction factor (Gelman et al., BDA3 §11.4) of (n_chains, T) draws.

    Each chain is split into its first and second halves (the middle draw is dropped when T is odd),
    giving m = 2 n_chains sequences of length n = floor(T/2) with means ybar_j and variances s_j^2
    (ddof = 1).  With B = n/(m-1) sum_j (ybar_j - ybar)^2 (between) and W = (1/m) sum_j s_j^2 (within),
    var_plus = (n-1)/n W + B/n and R-hat = sqrt(var_plus / W).  R-hat -> 1 when all chains sample one law;
    values above ~1.01-1.1 flag chains that have not mixed (splitting also catches drifts within a chain).
    A 1-d series is one chain.  NaN when W = 0 (every half-chain constant).
    """
    y = _check_series(series)
    t = y.shape[1]
    if t < 4:
        raise ValueError(f"series must have at least 4 steps per chain, got {t}")
    half = t // 2
    parts = np.concatenate([y[:, :half], y[:, t - half :]], axis=0)  # (2 n_chains, half)
    n = half
    means = parts.mean(axis=1)
    w = parts.var(axis=1, ddof=1).mean()
    b = n * means.var(ddof=1)
    if not w > 0:
        return math.nan
    var_plus = (n - 1) / n * w + b / n
    return float(math.sqrt(var_plus / w))


# -- planted models ----------------------------------------------------------------------------------


def nishimori_gap(model, x, chain=None, *, max_pairs: int | None = 20000, seed: SeedLike = 0) -> float:
    r"""Nishimori gap: mean overlap with the planted configuration minus mean two-replica overlap.

    gap = mean_a R(x_a, x*) - mean_{a<b} R(x_a, x_b), both with the model's symmetry
    (:func:`default_symmetry`: |R| for flip-invariant laws, the colour-permutation overlap for Potts).
    For a Bayes-optimal posterior the Nishimori identity gives E<R(x, x*)> = E<R(x, x')> for any such
    overlap, so exact samples have gap ≈ 0 (up to O(N^-1/2) instance fluctuations and sampling noise);
    a sampler stuck away from the posterior typically shows a clearly non-zero gap.  Replica pairs come
    from different chains when ``chain`` is given, and are subsampled to ``max_pairs`` (``seed``).
    Raises ``ValueError`` when the model has no planted configuration.
    """
    _check_model(model)
    if getattr(model, "planted", None) is None:
        raise ValueError(f"model ({type(model).__name__}) has no planted configuration (model.planted is None)")
    symmetry = default_symmetry(model)
    with_planted = overlap_with_planted(model, x, symmetry=symmetry)
    q = getattr(model, "q", None) if symmetry == "permutation" else None
    replicas = replica_overlaps(x, chain=chain, max_pairs=max_pairs, seed=seed, symmetry=symmetry, q=q)
    return float(np.mean(with_planted) - np.mean(replicas))
