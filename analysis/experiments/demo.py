r"""The quickstart job: the bundled sweep ``analysis/experiments/specs/demo.toml``, end to end, checked against Onsager.

The spec sweeps the 2D Ising ferromagnet (L x L torus, J = 1) over 7 temperatures around
T_c = 2/ln(1+sqrt 2) ≈ 2.269 with Metropolis and heat bath, 3 independent runs (seeds) per point, 8 chains
each started ordered.  The job runs it like ``spinglass sweep`` does (local processes, resumable), writes

* ``<out>/results.parquet/`` — the tidy dataset, one row per task x metric (see :mod:`analysis.experiments.results`);
* ``<out>/ising2d.png`` — traced energy per spin and mean |m| against T, mean over seeds ± one standard
  error, beside Onsager's exact infinite-volume energy and Yang's spontaneous magnetisation;
* ``<out>/efficiency.png`` — effective sample size of the energy against sampling wall time, per sampler,
  each point labelled by its temperature;

and returns the per-(T, sampler) table that the CLI prints.  Finite L shifts the curves near T_c (|m| stays
positive above T_c at finite L); far from T_c the energies agree with Onsager to a few 1e-3 at L = 16.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from spinglass.closed_forms import ISING_2D_TC, onsager_energy, yang_magnetization

from . import plots, results
from .sweep import SweepSummary, run_sweep
from .sweep_spec import SweepSpec, parse_spec

#: States kept per chain by the demo (n_samples = n_chains x this).
SAMPLES_PER_CHAIN = 100


def demo_spec_text() -> str:
    """The bundled demo spec (package data ``analysis/experiments/specs/demo.toml``)."""
    return resources.files("analysis.experiments").joinpath("specs", "demo.toml").read_text()


def demo_spec(out_dir: str | Path = "demo_output", L: int | None = None, sweeps: int | None = None,
              n_chains: int | None = None) -> SweepSpec:
    """The demo spec with its output under ``out_dir`` and optional overrides (validated like any spec)."""
    data = tomllib.loads(demo_spec_text())
    data["output"] = str(Path(out_dir) / "results.parquet")
    if L is not None:
        data["model"]["L"] = L
    for s in data["samplers"]:
        if sweeps is not None:
            s["sweeps"] = sweeps
            s["burn_in"] = sweeps
        if n_chains is not None:
            s["n_chains"] = n_chains
            s["n_samples"] = n_chains * SAMPLES_PER_CHAIN
    return parse_spec(data, source="demo.toml")


@dataclass
class DemoOutput:
    """What the demo produced: the sweep summary, the printed table's rows, and the files written."""

    summary: SweepSummary
    table: list[dict]
    results: Path
    figures: list[Path]


def run_demo(out_dir: str | Path = "demo_output", workers: int | None = None, L: int | None = None,
             sweeps: int | None = None, n_chains: int | None = None, progress: bool = True) -> DemoOutput:
    """Run the demo sweep into ``out_dir``; write the dataset and the two figures; return a :class:`DemoOutput`."""
    spec = demo_spec(out_dir, L=L, sweeps=sweeps, n_chains=n_chains)
    summary = run_sweep(spec, workers=workers, progress=progress)
    df = results.load(spec.output)
    table = summarize(df)
    out = Path(out_dir)
    figures = [plots.save(ising_figure(df), out / "ising2d.png"),
               plots.save(plots.efficiency_figure(df, "ess_energy", "wall_time", annotate="T",
                                                  title="ESS of the energy vs sampling time (labels: T)"),
                          out / "efficiency.png")]
    return DemoOutput(summary, table, spec.output, figures)


def summarize(df) -> list[dict]:
    """Per (T, sampler): seed means (± s.e.) of the energy and |m| beside Onsager and Yang, and efficiency."""
    cols = {m: results.aggregate(df, m).set_index(["T", "sampler"])
            for m in ("energy_trace", "abs_magnetization", "acceptance", "tau_int_energy", "ess_per_second")}
    rows = []
    for (T, sampler), e in cols["energy_trace"].iterrows():
        m = cols["abs_magnetization"].loc[(T, sampler)]
        rows.append({"T": float(T), "sampler": sampler, "energy": e["mean"], "energy_err": e["sem"],
                     "onsager": onsager_energy(1.0 / T), "abs_m": m["mean"], "abs_m_err": m["sem"],
                     "yang": yang_magnetization(1.0 / T), "acceptance": cols["acceptance"].loc[(T, sampler), "mean"],
                     "tau_int_energy": cols["tau_int_energy"].loc[(T, sampler), "mean"],
                     "ess_per_second": cols["ess_per_second"].loc[(T, sampler), "mean"], "seeds": int(e["count"])})
    return rows


def ising_figure(df):
    """Energy per spin and |m| against T from the demo's results, with Onsager's and Yang's exact curves."""
    fig = plots.observable_figure(df, "T", ["energy_trace", "abs_magnetization"])
    ax_e, ax_m = fig.axes[:2]
    t = np.linspace(df["T"].min(), df["T"].max(), 300)
    ax_e.plot(t, [onsager_energy(1 / x) for x in t], "k-", lw=1, label="Onsager (L = inf)")
    ax_m.plot(t, [yang_magnetization(1 / x) for x in t], "k-", lw=1, label="Yang (L = inf)")
    for ax, label in ((ax_e, "energy per spin"), (ax_m, "|m|")):
        ax.axvline(ISING_2D_TC, color="grey", ls=":", lw=1)
        ax.set_ylabel(label)
        ax.legend(fontsize=8)
    L = int(df["L"].iloc[0])
    fig.suptitle(f"2D Ising ferromagnet, L = {L}: MCMC (mean over seeds ± s.e.) vs exact infinite-volume results")
    fig.tight_layout()
    return fig


def format_table(rows: list[dict]) -> str:
    """The demo table as fixed-width text."""
    head = (f"{'T':>6} {'sampler':>10} {'energy':>9} {'± err':>7} {'Onsager':>9} {'|m|':>6} {'Yang':>6} "
            f"{'accept':>6} {'tau_E':>6} {'ESS/s':>9}")
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r['T']:6.3f} {r['sampler']:>10} {r['energy']:9.4f} {r['energy_err']:7.4f} "
                     f"{r['onsager']:9.4f} {r['abs_m']:6.3f} {r['yang']:6.3f} {r['acceptance']:6.3f} "
                     f"{r['tau_int_energy']:6.1f} {r['ess_per_second']:9.3g}")
    return "\n".join(lines)
