"""The ``spinglass`` command line: ``demo``, ``sweep``, ``sample``, ``plot``, ``phase-diagram`` and
``reproduce`` (``--help`` on each).

Every subcommand is one function decorated with :func:`command`: it receives the subparsers object,
adds its parser and arguments, and sets ``func`` to the handler (``Namespace -> exit code``).  A new
subcommand (e.g. ``phase-diagram``) is one more such function.  Errors in the user's input (a bad spec,
an unknown metric, a missing file) are ``ValueError``/``TypeError``/``OSError`` and are printed as one line
``spinglass: error: ...`` with exit code 2; failed tasks of a sweep give exit code 1.  ``--help`` and
argument errors import none of the numeric stack (the handlers import what they need).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

_COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = []


def command(add: Callable[[argparse._SubParsersAction], None]) -> Callable[[argparse._SubParsersAction], None]:
    """Register a function that adds one subcommand to the ``spinglass`` parser (in registration order)."""
    _COMMANDS.append(add)
    return add


# -- demo -------------------------------------------------------------------------------------------------


@command
def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="small 2D Ising sweep (Metropolis, heat bath) vs Onsager: Parquet + PNGs",
                       description="Run the bundled sweep spec analysis/experiments/specs/demo.toml: the 2D Ising "
                                   "ferromagnet over 7 temperatures x 3 seeds with Metropolis and heat bath; write the "
                                   "tidy "
                                   "results (Parquet) and figures (PNG) into --out and print a table against "
                                   "Onsager's energy and Yang's magnetisation.  Re-running skips finished tasks.")
    p.add_argument("--out", default="demo_output", help="output folder (default: demo_output)")
    p.add_argument("--workers", type=int, default=None, help="local worker processes (default: number of CPUs)")
    p.add_argument("--L", type=int, default=None, help="lattice side (default from the spec: 16)")
    p.add_argument("--sweeps", type=int, default=None, help="burn-in sweeps per chain (default from the spec)")
    p.add_argument("--chains", type=int, default=None, help="chains per task (default from the spec)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> int:
    from analysis.experiments.demo import format_table, run_demo

    out = run_demo(out_dir=args.out, workers=args.workers, L=args.L, sweeps=args.sweeps, n_chains=args.chains,
                   progress=not args.no_progress)
    print(out.summary)
    print()
    print(format_table(out.table))
    print(f"\nwrote {out.results} and {', '.join(str(f) for f in out.figures)}")
    return 0 if out.summary.ok else 1


# -- sweep ------------------------------------------------------------------------------------------------


@command
def _add_sweep(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help="run a TOML sweep spec into a tidy Parquet dataset (resumable)",
                       description="Expand SPEC into tasks (model grid x seeds x samplers), run the unfinished ones "
                                   "on local processes or a Dask cluster, and write one Parquet part-file per task. "
                                   "Re-running skips finished tasks.  Spec format: see "
                                   "analysis/experiments/sweep_spec.py and "
                                   "the README.")
    p.add_argument("spec", metavar="SPEC", nargs="?",
                   help="TOML sweep specification, or the name of a packaged one (--list shows them)")
    p.add_argument("--list", action="store_true", help="list the packaged specs (one per model family, and more)")
    p.add_argument("--workers", type=int, default=None, help="local worker processes (default: number of CPUs)")
    p.add_argument("--scheduler", metavar="ADDR", default=None,
                   help="address of an existing Dask scheduler, e.g. tcp://host:8786 (default: local processes)")
    p.add_argument("--out", default=None, help="dataset directory (default: the spec's output)")
    p.add_argument("--append", action="store_true",
                   help="allow writing into a dataset that holds another sweep (another name or model family)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_sweep)


def _sweep(args: argparse.Namespace) -> int:
    if args.spec is None and not args.list:
        raise ValueError("sweep: give SPEC (a TOML file or a packaged spec; spinglass sweep --list shows them)")
    from analysis.experiments.sweep import run_sweep
    from analysis.experiments.sweep_spec import load_spec

    if args.list:
        from analysis.experiments.sweep_spec import packaged_specs

        for name, path in packaged_specs().items():
            s = load_spec(path)
            print(f"{name:<18} {s.n_tasks:>4} tasks  {s.family:<16} {s.description}")
        print("run one with: spinglass sweep NAME  (results go to its output, relative to this folder)")
        return 0
    spec = load_spec(args.spec)
    if args.workers is not None and args.scheduler is not None:
        raise ValueError("--workers: not used with --scheduler (the cluster has its own workers)")
    summary = run_sweep(spec, workers=args.workers, scheduler=args.scheduler, progress=not args.no_progress,
                        output=args.out, append=args.append)
    print(summary)
    return 0 if summary.ok else 1


# -- sample -----------------------------------------------------------------------------------------------


def _assignment(text: str) -> tuple[str, object]:
    """KEY=VALUE with VALUE read as a TOML value (1, 2.5, true, inf, [8, 8], "x"), else as a bare string."""
    import tomllib

    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return key, value


@command
def _add_sample(sub: argparse._SubParsersAction) -> None:
    # the model and sampler names live in the sweep registries, whose import pulls in the numeric stack:
    # --list prints them, so that --help and argument errors stay fast
    p = sub.add_parser("sample", help="one-off run of a sampler on a model instance; prints its metrics",
                       description="Build MODEL with -p parameters and instance --seed, run SAMPLER with -s "
                                   "settings, and print the metrics.  Parameters and settings are those of a sweep "
                                   "spec.  --list prints the model families and samplers.",
                       epilog="example: spinglass sample EdwardsAnderson Metropolis -p L=16 -p couplings=ferro "
                              "-p T=2.5 -s sweeps=2000 -s n_samples=8")
    p.add_argument("model", metavar="MODEL", nargs="?", help="model family (--list shows them)")
    p.add_argument("sampler", metavar="SAMPLER", nargs="?", help="sampler name (--list shows them)")
    p.add_argument("--list", action="store_true", help="print the model families and samplers, and exit")
    p.add_argument("-p", "--param", action="append", type=_assignment, default=[], metavar="KEY=VALUE",
                   help="model parameter (repeatable)")
    p.add_argument("-s", "--set", action="append", type=_assignment, default=[], metavar="KEY=VALUE",
                   help="sampler setting or run setting: sweeps, thin, n_chains, init, ... (repeatable)")
    p.add_argument("--n-samples", type=int, default=16, help="samples to draw unless -s n_samples= (default 16)")
    p.add_argument("--seed", type=int, default=0, help="instance seed (default 0)")
    p.add_argument("--metrics", default="all", help="comma-separated metrics, or 'all' (default: all that apply)")
    p.add_argument("--out", default=None, help="also store the rows in this dataset directory")
    p.add_argument("--append", action="store_true",
                   help="allow --out to be a dataset that holds another sweep (another name or model family)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar over the sampler's sweeps / steps")
    p.set_defaults(func=_sample)


def _sample(args: argparse.Namespace) -> int:
    from analysis.experiments import results
    from analysis.experiments.sweep import execute_task, expand
    from analysis.experiments.sweep_spec import MODELS, SAMPLERS, parse_spec

    if args.list:
        print(f"models: {', '.join(MODELS)}\nsamplers: {', '.join(SAMPLERS)}")
        return 0
    if args.model is None or args.sampler is None:
        raise ValueError("sample: give MODEL and SAMPLER (spinglass sample --list shows them)")

    sampler = {"name": args.sampler, "n_samples": args.n_samples, **dict(args.set)}
    metrics = "all" if args.metrics == "all" else [m.strip() for m in args.metrics.split(",") if m.strip()]
    data = {"name": "sample", "model": {"family": args.model, **dict(args.param)}, "seeds": [args.seed],
            "samplers": [sampler], "metrics": metrics}
    spec = parse_spec(data, source="sample")
    (task,) = expand(spec)
    if args.out:
        with results.writer_lock(results.check_writable(args.out)):
            results.claim(args.out, spec.name, spec.family, append=args.append)
    rows = execute_task(task, progress=not args.no_progress)
    params = ", ".join(f"{k}={v}" for k, v in task.model.items())
    settings = ", ".join(f"{k}={v}" for k, v in {**task.settings, **task.run}.items())
    print(f"{task.family}({params}), seed {task.seed}")
    print(f"{task.sampler_name}({settings}), sampler seed {task.sampler_seed}")
    print(f"task {task.task_id}: sampling {rows[0]['wall_time']:.3g} s, task {rows[0]['task_time']:.3g} s")
    width = max(len(r["metric"]) for r in rows)
    for r in rows:
        print(f"  {r['metric']:<{width}}  {r['value']:.6g}")
    if args.out:
        with results.writer_lock(args.out):
            path = results.merge_part(args.out, task.task_id, rows)
        print(f"wrote {path}")
    return 0


# -- plot -------------------------------------------------------------------------------------------------


@command
def _add_plot(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plot", help="figures from a results dataset: observables vs a parameter, or efficiency",
                       description="Plot metrics of RESULTS (a sweep's Parquet dataset) against a swept parameter, "
                                   "mean over seeds with standard-error bars, one line per sampler; or, with "
                                   "--efficiency, a quality metric against a cost metric per sampler.")
    p.add_argument("results", metavar="RESULTS", help="results dataset (directory of part-files)")
    p.add_argument("--x", default=None, help="parameter on the x axis (default: the only swept model parameter)")
    p.add_argument("--metric", action="append", default=None,
                   help="metric to plot (repeatable; default: energy)")
    p.add_argument("--efficiency", action="store_true", help="plot quality vs cost per sampler instead")
    p.add_argument("--quality", default="ess_energy", help="quality metric for --efficiency (default ess_energy)")
    p.add_argument("--cost", default="wall_time", help="cost metric for --efficiency (default wall_time)")
    p.add_argument("--annotate", default=None,
                   help="column labelling each --efficiency point (default: the only swept model parameter)")
    p.add_argument("--out", default=None, help="PNG path (default: next to RESULTS, named after the plot)")
    p.set_defaults(func=_plot)


def _plot(args: argparse.Namespace) -> int:
    from analysis.experiments import plots, results

    df = results.load(args.results)
    stem = Path(args.results)
    stem = stem.with_name(stem.name.removesuffix(".parquet"))
    if args.efficiency:
        swept = _swept_parameters(df)
        annotate = args.annotate or (swept[0] if len(swept) == 1 else None)
        fig = plots.efficiency_figure(df, quality=args.quality, cost=args.cost, annotate=annotate)
        out = args.out or f"{stem}-efficiency.png"
    else:
        metrics = args.metric or ["energy"]
        x = args.x or _only_swept_parameter(df)
        fig = plots.observable_figure(df, x, metrics)
        out = args.out or f"{stem}-{'-'.join(metrics)}.png"
    print(f"wrote {plots.save(fig, out)}")
    return 0


def _swept_parameters(df) -> list[str]:
    from analysis.experiments.results import parameter_columns

    return [c for c in parameter_columns(df) if not c.startswith("sampler") and c not in ("family", "seed")
            and df[c].nunique() > 1]


def _only_swept_parameter(df) -> str:
    swept = _swept_parameters(df)
    if len(swept) != 1:
        raise ValueError(f"--x: give the parameter for the x axis (swept parameters: {', '.join(swept) or 'none'})")
    return swept[0]


# -- warmup -----------------------------------------------------------------------------------------------


@command
def _add_warmup(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("warmup", help="compile every numba kernel family once (later runs start at full speed)",
                       description="Call every kernel family (MCMC orders and coupling paths, tempering, BP, AMP, "
                                   "Langevin, population dynamics) once on a tiny instance, so that the compiled "
                                   "code is cached for every later process; prints the seconds each took.")
    p.set_defaults(func=_warmup)


def _warmup(args: argparse.Namespace) -> int:
    from analysis.experiments.warmup import warm_up

    total = sum(warm_up(lambda name, s: print(f"{s:7.2f} s  {name}", flush=True)).values())
    print(f"{total:7.2f} s  in all (compiled code cached; a second run loads it)")
    return 0


# -- entry point ------------------------------------------------------------------------------------------


# -- phase-diagram ----------------------------------------------------------------------------------------


@command
def _add_phase_diagram(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("phase-diagram", help="the denoising lens: sparse-Rademacher phase diagram, p-spin thresholds",
                       description="Compute the sparse-Rademacher spiked-Wigner phase diagram in the plane "
                                   "(rho, Delta/rho^2) with the IT, algorithmic, dynamical, diffusion and "
                                   "autoregressive curves (state evolution, docs/physics.md §4), and the "
                                   "thresholds of the spherical and Ising 3-spin models in temperature; write "
                                   "thresholds.csv and phase_diagram.png into --out.")
    p.add_argument("--rho", default="0.03:0.2:40", help="rho grid START:STOP:NUM (default 0.03:0.2:40)")
    p.add_argument("--x", default="0.8:2.0:40", help="Delta/rho^2 grid START:STOP:NUM (default 0.8:2.0:40)")
    p.add_argument("--out", default="phase_diagram_output", help="output folder (default: phase_diagram_output)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_phase_diagram)


def _grid_arg(name: str, text: str):
    import numpy as np

    parts = text.split(":")
    try:
        start, stop, num = float(parts[0]), float(parts[1]), int(parts[2])
    except (ValueError, IndexError):
        raise ValueError(f"--{name} must be START:STOP:NUM, got {text!r}") from None
    if len(parts) != 3 or num < 1:
        raise ValueError(f"--{name} must be START:STOP:NUM with NUM >= 1, got {text!r}")
    return np.linspace(start, stop, num)


def _phase_diagram(args: argparse.Namespace) -> int:
    import csv

    import matplotlib

    matplotlib.use("Agg")
    from analysis.theory.phase_diagram import pspin_thresholds, sparse_rademacher_phase_diagram
    from spinglass.priors import Gaussian, Rademacher

    out = Path(args.out)
    rho, x = _grid_arg("rho", args.rho), _grid_arg("x", args.x)
    diagram = sparse_rademacher_phase_diagram(rho, x, progress=not args.no_progress)
    out.mkdir(parents=True, exist_ok=True)
    rows = diagram.to_rows()
    with open(out / "thresholds.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    ax = diagram.plot()
    ax.figure.savefig(out / "phase_diagram.png", dpi=120, bbox_inches="tight")
    print("3-spin thresholds in temperature T (Delta = 2 T^2 / 3):")
    for name, prior in (("spherical", Gaussian()), ("Ising", Rademacher())):
        th = pspin_thresholds(prior, 3)
        print(f"  {name:9s} T_d = {th['T_dyn']:.6f}  T_IT = {th['T_IT']:.6f}  "
              f"diffusion fails below T = {th['T_diffusion']:.6f}  "
              f"autoregressive below T = {th['T_autoregressive']:.6f}")
    print(f"wrote {out / 'thresholds.csv'} and {out / 'phase_diagram.png'} ({rho.size} x {x.size} grid)")
    return 0


@command
def _add_reproduce(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reproduce", help="reproduce Ghio et al. (PNAS 2024): threshold table, planes, finite-size runs",
                       description="Compute every threshold of the PNAS study (spherical and Ising 3-spin, sparse "
                                   "Rademacher at rho = 0.08, planted 5-NAE-SAT) beside the published values, draw "
                                   "the (Delta, s) and (Delta, theta) planes per model and run the finite-size "
                                   "sampling experiments; write everything into --out (resumable).")
    p.add_argument("--out", default="reproduction_output", help="output folder (default: reproduction_output)")
    p.add_argument("--quick", action="store_true",
                   help="reduced resolution and small experiments (about 50 s on 2 cores)")
    p.add_argument("--no-experiments", action="store_true", help="only the threshold table and the planes")
    p.add_argument("--workers", type=int, default=None, help="processes for the tasks (default: one per CPU)")
    p.add_argument("--scheduler", metavar="ADDR", default=None,
                   help="address of an existing Dask scheduler, e.g. tcp://host:8786 (default: local processes; "
                        "--out must then be on a filesystem the workers share)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_reproduce)


def _reproduce(args: argparse.Namespace) -> int:
    from analysis.experiments.execution import JobsFailed
    from analysis.reproduction.run import reproduce

    if args.workers is not None and args.scheduler is not None:
        raise ValueError("--workers: not used with --scheduler (the cluster has its own workers)")
    try:
        reproduce(args.out, quick=args.quick, experiments=not args.no_experiments, workers=args.workers,
                  scheduler=args.scheduler, progress=not args.no_progress)
    except JobsFailed as exc:
        print(f"spinglass: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``spinglass`` parser with every registered subcommand."""
    parser = argparse.ArgumentParser(prog="spinglass", description="Samplers for spin-glass and planted models: "
                                     "sweeps, one-off runs and plots.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in _COMMANDS:
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 failed tasks, 2 bad input, 130 interrupted)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, OSError) as exc:
        print(f"spinglass: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except MemoryError as exc:
        detail = f" ({' '.join(str(exc).split())})" if str(exc) else ""
        print(f"spinglass: error: out of memory{detail}: choose a smaller size (n, L, ...) or fewer samples / "
              "chains", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("spinglass: interrupted (finished tasks are saved; run again to resume)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
