r"""Replica-symmetric potentials (free entropies) of spiked models along the denoising paths.

PHYSICS.md §4, with psi the prior's scalar free entropy (d psi / d g = F / 2) and snr(m) = m^(p-1)/Delta:

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

from spinglass.priors import Prior


def _snr(p: int, Delta: float, m) -> np.ndarray:
    return np.power(np.maximum(np.asarray(m, dtype=float), 0.0), p - 1) / Delta


def gaussian_path_potential(prior: Prior, p: int, Delta: float, m, s) -> np.ndarray:
    """Phi(m; s) = psi(m^(p-1)/Delta + s) - (p-1) m^p / (2 p Delta)."""
    m = np.asarray(m, dtype=float)
    return prior.psi(_snr(p, Delta, m) + np.asarray(s, dtype=float)) - (p - 1) * np.power(m, p) / (2 * p * Delta)


def erasure_path_potential(prior: Prior, p: int, Delta: float, m, theta) -> np.ndarray:
    """Phi(m; theta) = (1-theta) psi(snr(m)) + theta snr(m)/2 - (p-1) m^p / (2 p Delta)."""
    m = np.asarray(m, dtype=float)
    theta = np.asarray(theta, dtype=float)
    g = _snr(p, Delta, m)
    return (1.0 - theta) * prior.psi(g) + 0.5 * theta * g - (p - 1) * np.power(m, p) / (2 * p * Delta)


def signal_path_potential(prior: Prior, p: int, m, lam) -> np.ndarray:
    """Phi(m; lam) = psi(lam m^(p-1)) - (p-1) lam m^p / (2 p) (the model at s = 0, Delta = 1/lam)."""
    m = np.maximum(np.asarray(m, dtype=float), 0.0)
    lam = np.asarray(lam, dtype=float)
    return prior.psi(lam * np.power(m, p - 1)) - (p - 1) * lam * np.power(m, p) / (2 * p)


__all__ = ["gaussian_path_potential", "erasure_path_potential", "signal_path_potential"]
