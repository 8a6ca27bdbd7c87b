r"""Closed-form ground truth used to validate samplers (docs/physics.md §1).

* 2D Ising ferromagnet on the square lattice (J = 1, infinite volume): critical point
  T_c = 2 / ln(1 + sqrt 2); Onsager's energy per spin
      u(beta) = -coth(2 beta) [1 + (2/pi) (2 tanh^2(2 beta) - 1) K(k)],  k = 2 sinh(2 beta)/cosh^2(2 beta),
  K the complete elliptic integral of the first kind (modulus k, scipy parameter m = k^2);
  Yang's spontaneous magnetisation m(beta) = (1 - sinh(2 beta)^-4)^(1/8) for T < T_c, else 0.
  (L. Onsager, Phys. Rev. 65, 117 (1944); C. N. Yang, Phys. Rev. 85, 808 (1952).)
* Curie-Weiss mean-field magnetisation: the largest root of m = tanh(beta (m + h)).
* SK at h = 0, beta < 1 (annealed / paramagnetic region): log Z / N -> ln 2 + beta^2/4 and
  E[H]/N -> -beta/2.
"""

from __future__ import annotations

import math

from scipy.optimize import brentq
from scipy.special import ellipk

from ._validate import check_real

ISING_2D_TC = 2.0 / math.log(1.0 + math.sqrt(2.0))


def onsager_energy(beta: float) -> float:
    """Energy per spin of the infinite 2D Ising ferromagnet (J = 1) at inverse temperature ``beta``."""
    beta = check_real("beta", beta, minimum=0.0, strict_min=True)
    k = 2.0 * math.sinh(2 * beta) / math.cosh(2 * beta) ** 2
    K = ellipk(min(k * k, 1.0 - 1e-16))
    return -1.0 / math.tanh(2 * beta) * (1.0 + 2.0 / math.pi * (2.0 * math.tanh(2 * beta) ** 2 - 1.0) * K)


def yang_magnetization(beta: float) -> float:
    """Spontaneous magnetisation of the infinite 2D Ising ferromagnet (0 above T_c)."""
    beta = check_real("beta", beta, minimum=0.0)
    if beta <= 1.0 / ISING_2D_TC:
        return 0.0
    return (1.0 - math.sinh(2 * beta) ** -4) ** 0.125


def curie_weiss_magnetization(beta: float, h: float = 0.0) -> float:
    """Largest root m of m = tanh(beta (m + h)) (the h -> 0+ branch when h = 0)."""
    beta = check_real("beta", beta, minimum=0.0)
    h = check_real("h", h)
    sign = -1.0 if h < 0 else 1.0
    h = abs(h)
    g = lambda m: m - math.tanh(beta * (m + h))  # noqa: E731
    if g(1e-12) >= 0:  # only the root at m = 0 (h = 0, beta <= 1)
        return 0.0
    return sign * brentq(g, 1e-12, 1.0)


def sk_annealed_free_entropy(beta: float) -> float:
    """Limit of log Z / N for SK at h = 0 in the paramagnet (beta < 1): ln 2 + beta^2/4."""
    beta = check_real("beta", beta, minimum=0.0, maximum=1.0)
    return math.log(2.0) + beta**2 / 4.0


def sk_annealed_energy(beta: float) -> float:
    """Limit of E[H]/N for SK at h = 0 in the paramagnet (beta < 1): -beta/2."""
    beta = check_real("beta", beta, minimum=0.0, maximum=1.0)
    return -beta / 2.0


__all__ = ["ISING_2D_TC", "onsager_energy", "yang_magnetization", "curie_weiss_magnetization",
           "sk_annealed_free_entropy", "sk_annealed_energy"]
