r"""Reference values of the thresholds reproduced by ``spinglass reproduce``, with their sources.

Each entry is a value *from the literature*, typed here once with its citation and the precision at
which the source states it (half a unit of its last digit unless the source gives an error bar).  The
toolkit's own numbers are never typed: ``analysis.reproduction.thresholds`` computes them, and the table
puts the two side by side.

Three kinds of source:

* the classical values of the models' static and dynamical transitions, which the study
  (Ghio, Dandi, Krzakala, Zdeborová, PNAS 121, e2311810121 (2024), arXiv:2308.14085) takes from the
  spin-glass literature: T_d and T_K of the spherical and Ising 3-spin models, alpha_d and the
  Kesten-Stigum density of 5-uniform hypergraph bicolouring;
* the study's own numbers: the generative thresholds of the 3-spin models (where diffusion / flows and
  autoregressive sampling start to fail; the spherical ones as the closed forms 2/3 and 1/sqrt(2)) and
  the five sparse-Rademacher thresholds at rho = 0.08 in Delta/rho^2 (alg ~ 0.98, IT ~ 1.029,
  dyn ~ 1.041, autoregressive ~ 1.069, diffusion ~ 1.080).  They are typed as the study prints them,
  with the precision of half a unit of the last printed digit (0 for the closed forms); they were
  transcribed from the study in the project's issue tracker, not re-read from the paper by this
  module's authors;
* the study's planted 5-NAE-SAT numbers, read in its released analysis (repository IdePHICS/DiffSamp, file
  ``Analysis/PhaseDiagrams.ipynb``, section "NAESAT", the cells that draw ``Figures/PhD_BICOL_C.pdf``
  (diffusion) and ``Figures/PhD_Deci_BICOL_C.pdf`` (decimation); commit 65a8659).  Those cells type the
  tricritical point of both paths at alpha = 8.4 (``D_lim``; at gamma^2 = 0.295 on the diffusion path,
  theta = 0.172 on the decimation path), the dynamical density 9.465 (9.472 in the decimation figure) and
  the end of the condensation (IT) line at alpha = 10.27 (``alpha_lim``).  Their SNR gamma^2 is our
  ``side_snr`` gamma (node field gamma^2 + gamma z in ``Codes/TR_NAESAT_DiffDoubleGamma.c``, i.e.
  h = g + sqrt(g) z with g = gamma^2).  The tricritical densities are drawn by hand at the end of
  quadratic fits of sp1, sp2 and IT, not computed by a stated criterion; the population-dynamics data
  behind them (``Data/DF_TR_DataDD_PD.xz``: 10^6 members, 700 iterations averaged over the last 200,
  alpha in steps of 0.02 from 8 to 10, gamma^2 in steps of 0.004; ``Data/DF_DDT_Data_DD_PD_Deci.xz``:
  10^5 members, theta in steps of 0.002) show an overlap gap delta OV > 0.05 between the two starts
  in every alpha column from 8.44 on (diffusion: 0.075 in one gamma^2 cell at 8.44, 0.15 at 8.50, none
  above 0.023 below 8.44) and from 8.38 on (decimation; isolated cells at 8.20, 8.22, 8.26 and 8.34 below
  that, at the smaller population).  We therefore give alpha_diffusion = alpha_autoregressive = 8.4 the
  precision 0.05 (half a unit of the printed digit, which also covers the data's first columns of
  steady coexistence), and alpha_c = 10.27 the precision 0.005 of its printed digits: the plane data stop
  at alpha = 10, so 10.27 is an input of the figure, not a result of these data.  The study's tricritical
  path positions are ``STUDY_NAESAT_TRICRITICAL``.

The test suite checks every value given here within 1 % (and within the two stated precisions).

Units: temperatures T of the planted p-spin (T = sqrt(3 Delta / 2) for p = 3, docs/physics.md §1); for sparse
Rademacher the paper's Delta/rho^2 (= our 1/lam); for NAE-SAT the clause density alpha.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Published:
    """One reference value.

    Attributes
    ----------
    model, threshold : keys matching the rows of ``analysis.reproduction.thresholds``.
    value : the published number, or None when no checked value is available here.
    precision : absolute precision of ``value`` as the source states it.
    source : citation.
    """

    model: str
    threshold: str
    value: float | None
    precision: float
    source: str


_CS = "Crisanti & Sommers, Z. Phys. B 87, 341 (1992) (statics, T_K)"
_CHS = "Crisanti, Horner & Sommers, Z. Phys. B 92, 257 (1993) (dynamics); T_d = sqrt(3/8) in closed form"
_ISING = ("Gardner, Nucl. Phys. B 257, 747 (1985) (T_K); Montanari & Ricci-Tersenghi, Eur. Phys. J. B 33, "
          "339 (2003) (T_d)")
_BICOL = ("Dall'Asta, Ramezanpour & Zecchina, Phys. Rev. E 77, 031118 (2008); Krzakala & Zdeborova, "
          "PRL 102, 238701 (2009) (planted ensemble)")
_KS = "Kesten-Stigum bound ((2^{k-1}-1)^2 / (k (k-1)), exact)"
_STUDY = ("Ghio, Dandi, Krzakala & Zdeborova, PNAS 121, e2311810121 (2024), arXiv:2308.14085 (the study's own "
          "value, as printed there)")
_STUDY_CLOSED = _STUDY + "; closed form"
_DIFFSAMP = ("Ghio, Dandi, Krzakala & Zdeborova, released analysis: github.com/IdePHICS/DiffSamp, "
             "Analysis/PhaseDiagrams.ipynb, section NAESAT (commit 65a8659)")
_STUDY_TRI = (_DIFFSAMP + ": tricritical point typed as D_lim = 8.4 in the {fig} cell (drawn by hand at the end of "
              "the fitted sp1 / sp2 / IT lines); its data ({data}) show an overlap gap > 0.05 in every alpha column "
              "from {first} on")

PUBLISHED: tuple[Published, ...] = (
    Published("spherical_3spin", "T_d", math.sqrt(3.0 / 8.0), 5e-5, _CHS),
    Published("spherical_3spin", "T_K", 0.586, 5e-4, _CS),
    Published("spherical_3spin", "T_diffusion", 2.0 / 3.0, 0.0, _STUDY_CLOSED),
    Published("spherical_3spin", "T_autoregressive", 1.0 / math.sqrt(2.0), 0.0, _STUDY_CLOSED),
    Published("ising_3spin", "T_d", 0.682, 5e-4, _ISING),
    Published("ising_3spin", "T_K", 0.651, 5e-4, _ISING),
    Published("ising_3spin", "T_diffusion", 0.741, 5e-4, _STUDY),
    Published("ising_3spin", "T_autoregressive", 0.759, 5e-4, _STUDY),
    Published("sparse_rademacher_0.08", "x_IT", 1.029, 5e-4, _STUDY),
    Published("sparse_rademacher_0.08", "x_dyn", 1.041, 5e-4, _STUDY),
    Published("sparse_rademacher_0.08", "x_alg", 0.98, 5e-3, _STUDY),
    Published("sparse_rademacher_0.08", "x_diffusion", 1.080, 5e-4, _STUDY),
    Published("sparse_rademacher_0.08", "x_autoregressive", 1.069, 5e-4, _STUDY),
    Published("naesat_5", "alpha_d", 9.465, 5e-4,
              _BICOL + "; the study's notebook types the same 9.465 (Dd; 9.472 in its decimation figure)"),
    Published("naesat_5", "alpha_c", 10.27, 5e-3,
              _DIFFSAMP + ": end of the condensation (IT) line, alpha_lim = 10.27, typed in both NAE-SAT figure cells "
              "(an input of the figures: their plane data stop at alpha = 10)"),
    Published("naesat_5", "alpha_KS", 11.25, 0.0, _KS),
    Published("naesat_5", "alpha_diffusion", 8.4, 0.05,
              _STUDY_TRI.format(fig="PhD_BICOL_C (diffusion, gamma^2 = 0.295)",
                                data="Data/DF_TR_DataDD_PD.xz, 10^6 members, alpha step 0.02, gamma^2 step 0.004",
                                first="8.44")),
    Published("naesat_5", "alpha_autoregressive", 8.4, 0.05,
              _STUDY_TRI.format(fig="PhD_Deci_BICOL_C (decimation, theta = 0.172)",
                                data="Data/DF_DDT_Data_DD_PD_Deci.xz, 10^5 members, alpha step 0.02, theta step 0.002",
                                first="8.38")),
)

#: The study's tricritical points of planted 5-NAE-SAT as (alpha, path value), typed in its notebook (sources of
#: the alpha_diffusion / alpha_autoregressive entries): gamma^2 on the diffusion path (= our ``side_snr``), theta
#: (revealed fraction) on the decimation path.  Not rows of the threshold table: the record's path search gives
#: only the coexistence window at the bracket's upper end (``GenerativeThresholdResult.window``).
STUDY_NAESAT_TRICRITICAL = {"gaussian": (8.4, 0.295), "erasure": (8.4, 0.172)}


def published(model: str, threshold: str) -> Published | None:
    """The reference entry of (model, threshold), or None when there is none."""
    for p in PUBLISHED:
        if p.model == model and p.threshold == threshold:
            return p
    return None


__all__ = ["PUBLISHED", "Published", "STUDY_NAESAT_TRICRITICAL", "published"]
