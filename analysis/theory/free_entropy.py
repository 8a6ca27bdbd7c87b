r"""Replica-symmetric potentials (free entropies) of spiked models along the denoising paths.

docs/physics.md §4, with psi the prior's scalar free entropy (d psi / d g = F / 2) and snr(m) = m^(p-1)/Delta:

    Gaussian path (side SNR s):     Phi(m; s)     = psi(snr(m) + s) - (p-1) m^p / (2 p Delta)
    erasure path (revealed theta):  Phi(m; theta) = (1-theta) psi(snr(m)) + theta snr(m) / 2
                                                    - (p-1) m^p / (2 p Delta)
    signal path (s = 0, lam=1/Delta): Phi(m; lam)  = psi(lam m^(p-1)) - (p-1) lam m^p / (2 p)

Each is written up to terms that do not depend on m, so potentials are compared only at equal path
parameter.  Stationarity: dPhi/dm = (p-1) m^(p-2) / (2 Delta) · (T_u(m) - m) with T_u the SE map, so the
stationary points are exactly the SE fixed points and, for m > 0, the local maxima are the stable ones.
The erasure term theta snr/2 is the free entropy of a revealed variable (psi of a noiseless channel,
E[g x^2]/2 = g/2).  The Bayes-optimal overlap is the global maximiser over m in [0, 1]
(Lesieur, Krzakala, Zdeborová, J. Stat. Mech. 2017; Ghio et al., PNAS 2024).
"""

from __future__ import annotations

import numpy as np

from spinglass._validate import check_int, check_real
from spinglass.priors import Prior


def _check_common(p, Delta=None) -> None:
    check_int("p", p, minimum=2)
    if Delta is not None:
        check_real("Delta", Delta, minimum=0.0, strict_min=True)


def _check_range(name: str, value, lo: float, hi: float | None = None) -> np.ndarray:
    """``value`` as a float array, ``ValueError`` naming it unless every entry is in [lo, hi]."""
    v = np.asarray(value, dtype=float)
    bad = ~np.isfinite(v) | (v < lo) | (v > hi if hi is not None else False)
    if np.any(bad):
        allowed = f"in [{lo:g}, {hi:g}]" if hi is not None else f">= {lo:g} and finite"
        raise ValueError(f"{name} must be {allowed}, got {float(v[bad].ravel()[0])!r}")
    return v


def _snr(p: int, Delta: float, m) -> np.ndarray:
    return np.power(np.maximum(np.asarray(m, dtype=float), 0.0), p - 1) / Delta


def gaussian_path_potential(prior: Prior, p: int, Delta: float, m, s) -> np.ndarray:
    """Phi(m; s) = psi(m^(p-1)/Delta + s) - (p-1) m^p / (2 p Delta); p >= 2, Delta > 0, s >= 0."""
    _check_common(p, Delta)
    s = _check_range("s", s, 0.0)
    m = np.asarray(m, dtype=float)
    return prior.psi(_snr(p, Delta, m) + s) - (p - 1) * np.power(m, p) / (2 * p * Delta)


def erasure_path_potential(prior: Prior, p: int, Delta: float, m, theta) -> np.ndarray:
    """Phi(m; theta) = (1-theta) psi(snr(m)) + theta snr(m)/2 - (p-1) m^p / (2 p Delta); theta in [0, 1]."""
    _check_common(p, Delta)
    theta = _check_range("theta", theta, 0.0, 1.0)
    m = np.asarray(m, dtype=float)
    g = _snr(p, Delta, m)
    return (1.0 - theta) * prior.psi(g) + 0.5 * theta * g - (p - 1) * np.power(m, p) / (2 * p * Delta)


def signal_path_potential(prior: Prior, p: int, m, lam) -> np.ndarray:
    """Phi(m; lam) = psi(lam m^(p-1)) - (p-1) lam m^p / (2 p) (the model at s = 0, Delta = 1/lam); lam >= 0."""
    _check_common(p)
    lam = _check_range("lam", lam, 0.0)
    m = np.maximum(np.asarray(m, dtype=float), 0.0)
    return prior.psi(lam * np.power(m, p - 1)) - (p - 1) * lam * np.power(m, p) / (2 * p)


__all__ = ["gaussian_path_potential", "erasure_path_potential", "signal_path_potential"]
