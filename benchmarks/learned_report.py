r"""One report on the learned samplers at scale (issue 17): run the learned benchmarks, collect what they measured.

The learned samplers are judged by eight benchmark scripts, each writing a JSON file (and, all but
``learned_sparse.py``, a figure) under ``docs/figures``:

* ``learned_at_scale.py``: the amortised unrolled AMP on dense spiked Wigner (Rademacher lam = 2 at N = 2000,
  sparse Rademacher rho = 0.05 easy / hard) against state evolution, and its sparse part again at N = 4000
  (``--sparse-only --n 4000 --name learned_at_scale_sparse``) and at N = 4000 with the network trained at N = 2000
  (``--train-n 2000 --name learned_at_scale_transfer``), and at N = 4000 trained on its own warm-started queries with
  the sign-invariant loss (``--warm --sign-invariant --name learned_at_scale_sparse_warm``);
* ``learned_escape.py``: how often SL and SI over a network trained that way escape the sparse hard phase at
  N = 2000, 4000 and 8000;
* ``learned_sparse.py``: BP-initialised learned message passing on planted colouring and 5-NAE-SAT against BP;
* ``learned_tensor.py``: the amortised tensor AMP on the planted Ising and spherical 3-spin models, easy and hard,
  at N = 100 and again at N = 200 with 16 instances (``--n 200 --instances 16 --no-untrained-samples --name
  learned_tensor_n200``), and so again trained on its own warm-started queries (``--warm --name
  learned_tensor_n200_warm``);
* ``learned_comparisons.py``: flow matching against diffusion (same network, data and budget), and continuous
  against masked diffusion on planted 5-NAE-SAT;
* ``learned_autoregressive.py``: the amortised (tensor) AMP networks on the erasure path, ``Autoregressive`` over
  them against over AMP, on the spiked Wigner model and on either side of T_autoregressive on the planted 3-spin.
* ``learned_colouring.py``: the learned message-passing samplers (diffusion and autoregressive) on planted
  5-colouring below and above the lens' generative thresholds, against the same samplers over BP; and its
  diffusion half rerun with damping 0.5 (``--damping 0.5 --drivers SL --name learned_colouring_damped``).

``python benchmarks/learned_report.py`` reads their JSON files and writes ``docs/figures/learned_report.json``
and ``docs/figures/learned_report.md``: one row per measured statement (source, statement, value, target, met),
the figures' paths and each source's machine and load.  ``--run`` first runs the thirteen records' scripts one after
the other (``--quick`` passes their smoke mode on, without the records' size options, and writes to a scratch
directory, ``--out``), so one command regenerates the whole record: about ten hours on 2 loaded cores,
a few minutes with ``--quick``.
A missing JSON file is reported as missing, never silently skipped.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # imported by path (the tests): the sibling module must still be found
    sys.path.insert(0, str(HERE))
from learned_common import sparse_targets  # noqa: E402

SOURCES = ("learned_at_scale", "learned_at_scale_sparse", "learned_at_scale_transfer", "learned_at_scale_sparse_warm",
           "learned_escape", "learned_sparse", "learned_tensor", "learned_tensor_n200", "learned_tensor_n200_warm",
           "learned_comparisons", "learned_autoregressive", "learned_colouring", "learned_colouring_damped")

#: sources written by another script's options (the others by ``<name>.py``)
RUNS = {"learned_colouring_damped": ("learned_colouring.py",
                                     ["--damping", "0.5", "--drivers", "SL", "--name", "learned_colouring_damped"]),
        "learned_at_scale_sparse": ("learned_at_scale.py",
                                    ["--sparse-only", "--n", "4000", "--name", "learned_at_scale_sparse"]),
        "learned_at_scale_transfer": ("learned_at_scale.py", ["--sparse-only", "--n", "4000", "--train-n", "2000",
                                                              "--name", "learned_at_scale_transfer"]),
        "learned_at_scale_sparse_warm": ("learned_at_scale.py", ["--sparse-only", "--n", "4000", "--warm",
                                                                 "--sign-invariant", "--name",
                                                                 "learned_at_scale_sparse_warm"]),
        "learned_tensor_n200": ("learned_tensor.py", ["--n", "200", "--instances", "16", "--no-untrained-samples",
                                                      "--name", "learned_tensor_n200"]),
        "learned_tensor_n200_warm": ("learned_tensor.py", ["--n", "200", "--instances", "16", "--no-untrained-samples",
                                                           "--warm", "--name", "learned_tensor_n200_warm"])}


def _row(source: str, statement: str, value, target: str, met) -> dict:
    value = None if value is None or (isinstance(value, float) and not math.isfinite(value)) else value
    return {"source": source, "statement": statement, "value": value, "target": target,
            "met": None if met is None else bool(met)}


def rows_at_scale(d: dict, source: str = "learned_at_scale") -> list[dict]:
    """The Rademacher targets as recorded, the sparse ones recomputed from the record's rows (``sparse_targets``:
    so a record written before a sparse statement was added reports it too), each sparse one with its N."""
    targets = [t for t in d["targets"] if not t["target"].startswith("sparse")]
    n = d["settings"]["n"]
    recipe = [what for key, what in (("warm", "warm starts"), ("sign_invariant", "sign-invariant loss"))
              if d["settings"].get(key)]
    trained = ([f"at N={d['settings']['train_n']}"] if d["settings"].get("train_n") else []) + \
        ([f"with {' and '.join(recipe)}"] if recipe else [])
    size = f"N={n}" + (f" (trained {', '.join(trained)})" if trained else "")
    targets += [{**t, "target": t["target"].replace("sparse ", f"sparse {size} ", 1)}
                for t in sparse_targets(d["sparse"], d["settings"]["tolerance_overlap"])]
    return [_row(source, t["target"], t["value"], "see statement", t["met"]) for t in targets]


def rows_sparse(d: dict) -> list[dict]:
    out = []
    for fam, r in d["results"].items():
        for key, block in r["marginals"].items():
            lr = block["learned"]
            out.append(_row("learned_sparse", f"{fam} {key}: learned marginals' mean abs difference to BP", lr["mad"],
                            "<= 0.02", lr["mad"] <= 0.02))
        ar = r["autoregressive"]
        out.append(_row("learned_sparse", f"{fam}: autoregressive runs failed (learned / BP)",
                        f"{ar['learned']['failed']} / {ar['bp']['failed']}", "learned <= BP",
                        ar["learned"]["failed"] <= ar["bp"]["failed"]))
    return out


def rows_tensor(d: dict, source: str = "learned_tensor") -> list[dict]:
    """Per (model, T): the learned SL against the AMP-driven one (overlaps), then the lens' statement: below
    T_diffusion the sampler fails, which the energy-form Nishimori check must flag for both (and above it for
    neither), and where the posterior is informative (state-evolution m* > 0, recorded in the verdicts since
    the N = 200 run) both must end uninformed, their overlap with x* below m* - tolerance."""
    out = []
    n = d["settings"]["n"]
    for v in d["verdicts"]:
        where = f"{v['model']} T = {v['T']} (N = {n}" + (", trained with warm starts)" if d["settings"].get("warm")
                                                         else ")")
        fails = v["T"] < d["models"][v["model"]]["thresholds"]["T_diffusion"]
        lens = "fails" if fails else "works"
        out.append(_row(source, f"{where}: learned vs AMP-driven SL, largest overlap difference",
                        max(abs(v["overlap_diff"]), abs(v["two_sample_diff"])), f"<= {v['tolerance']:.3f}",
                        v["overlaps_match"]))
        out.append(_row(source, f"{where}: energy gap flagged (learned, AMP) where the lens says {lens}",
                        f"{v['learned_gap_flagged']}, {v['amp_gap_flagged']}", "both as the lens says",
                        v["learned_gap_flagged"] == v["amp_gap_flagged"] == fails))
        if v.get("m_bayes", 0.0) > v["tolerance"]:
            out.append(_row(source, f"{where}: ends uninformed, overlap with x* < m* - tol = "
                            f"{v['m_bayes'] - v['tolerance']:.3f} (learned, AMP) where the lens says {lens}",
                            f"{v['learned_uninformed']}, {v['amp_uninformed']}", "both as the lens says",
                            v["learned_uninformed"] == v["amp_uninformed"] == fails))
    return out


def rows_escape(d: dict) -> list[dict]:
    """Per size and driver, the samples that found x* at the sparse hard point (recorded), and the trend the lens
    implies: fewer at the largest N than at the smallest (the escape is a finite-size effect)."""
    st = d["settings"]
    out = []
    for s in d["summary"]:
        out.append(_row("learned_escape", f"sparse Delta/rho^2={st['x']} (hard) N={s['n']} {s['driver']} over the "
                        f"network trained at N={st['train_n']} with warm starts and the sign-invariant loss: samples "
                        f"that found x* (instances {s['instances_with_escape']})", f"{s['found']} / {s['samples']}",
                        "recorded", None))
    for drv in sorted({s["driver"] for s in d["summary"]}):
        by = sorted((s for s in d["summary"] if s["driver"] == drv), key=lambda s: s["n"])
        first, last = by[0], by[-1]
        out.append(_row("learned_escape", f"{drv}: fewer samples find x* at N={last['n']} than at N={first['n']}",
                        [first["found"] / first["samples"], last["found"] / last["samples"]], "decreasing",
                        last["found"] / last["samples"] < first["found"] / first["samples"]))
    return out


def rows_autoregressive(d: dict) -> list[dict]:
    out = []
    for v in d["verdicts"]:
        where = f"{v['model']} " + (f"T = {v['T']}" if "T" in v else f"lam = {v['lam']}")
        out.append(_row("learned_autoregressive", f"{where}: learned vs AMP-driven autoregressive, largest overlap "
                        "difference", max(abs(v["overlap_diff"]), abs(v["two_sample_diff"])),
                        f"<= {v['tolerance']:.3f}", v["overlaps_match"]))
        out.append(_row("learned_autoregressive", f"{where}: energy gap flagged (learned, AMP) where the lens says "
                        f"{v['lens']}", f"{v['learned_gap_flagged']}, {v['amp_gap_flagged']}", "as the lens says",
                        v["learned_as_lens_says"]))
    return out


def rows_comparisons(d: dict) -> list[dict]:
    out = []
    A = d.get("A")
    if A:
        over = A["over_seeds"]
        cv = over["loss_cv_last_half"]["flow_minus_diffusion"]
        out.append(_row("learned_comparisons", "flow - diffusion: per-step loss CV, last half (3 seeds)",
                        cv["mean"], "< 0 by 2 SE: flow more stable", cv["mean"] + 2 * cv["stderr"] < 0))
        g = over["grad_norm_cv_last_half"]["flow_minus_diffusion"]
        out.append(_row("learned_comparisons", "flow - diffusion: gradient-norm CV, last half",
                        g["mean"], "< 0 by 2 SE: flow more stable", g["mean"] + 2 * g["stderr"] < 0))
        fin = A["gap_to_converged_amp"]["final_gap"]["flow_minus_diffusion"]
        out.append(_row("learned_comparisons", "flow - diffusion: final excess MSE over the floor",
                        fin["mean"], "< 0 by 2 SE", fin["mean"] + 2 * fin["stderr"] < 0))
        for level in ("0.1", "0.02"):
            c = A["gap_to_converged_amp"][level]["flow_minus_diffusion_cpu"]
            out.append(_row("learned_comparisons", f"flow - diffusion: CPU s to within {level} of the floor",
                            c["mean"], "< 0 by 2 SE: flow faster", c["mean"] + 2 * c["stderr"] < 0))
        bad = [s for s in A["samples_summary"] if not s["within_tol"]]
        out.append(_row("learned_comparisons", "samples at NFE 10/20/50 within 3/sqrt(N) + 0.02 of m*",
                        f"{len(A['samples_summary']) - len(bad)} of {len(A['samples_summary'])}", "all",
                        not bad))
    B = d.get("B") or {}
    return out + lens_rows("learned_comparisons", B.get("by_alpha"), "5-NAE-SAT alpha", "solutions")


def rows_colouring(d: dict) -> list[dict]:
    name = d.get("settings", {}).get("name", "learned_colouring")
    what = "5-colouring c" if name == "learned_colouring" else f"5-colouring (damping {d['settings']['damping']}) c"
    return lens_rows(name, d.get("by_c"), what, "proper colourings")


def lens_rows(source: str, by_density: dict | None, what: str, good: str) -> list[dict]:
    """Per test density (``what = value``) of a learned-against-BP sampling record: each sampler's verdict against
    the lens, the paired count of its bad samples (failed or violating) minus the BP-driven sampler's, and each
    network's mean absolute marginal difference to BP's, against 0.02 below the lens' threshold (where the lens
    says the samplers work; above it the issue asks only that they fail as the lens says, so the difference is
    recorded with no target)."""
    out = []
    for x, block in sorted((by_density or {}).items(), key=lambda kv: float(kv[0])):
        for sampler, v in block["verdicts"].items():
            out.append(_row(source, f"{what} = {x}, {sampler}: observed against the lens",
                            f"{v['observed']} / lens {v['lens']}", "agrees", v["agrees"]))
            if v.get("bad_minus_bp"):  # failed or violating samples, learned minus BP-driven, paired by instance
                out.append(_row(source, f"{what} = {x}, {sampler}: samples that are not {good}, minus BP's (paired)",
                                v["bad_minus_bp"]["mean"], "not worse than BP by 2 SE",
                                v["bad_minus_bp"]["not_worse_2se"]))
        lens = {v["lens"] for v in block["verdicts"].values()}
        for channel, ok in block["marginals_within_0.02"].items():
            mad = block["marginals"][channel]["mad"]
            if lens == {"works"}:
                out.append(_row(source, f"{what} = {x}: {channel}-trained marginals within 0.02 of BP's", mad,
                                "<= 0.02", ok))
            else:
                where = "above the lens' threshold" if lens == {"fails"} else "the lens not 'works' for every sampler"
                out.append(_row(source, f"{what} = {x} ({where}): {channel}-trained marginals' mean abs difference to "
                                "BP's", mad, "recorded", None))
    return out

#: options that set a record's size; ``--run --quick`` leaves them out (with their values)
SIZE_OPTIONS = ("--n", "--instances")

EXTRACT = {"learned_at_scale": rows_at_scale, "learned_sparse": rows_sparse, "learned_tensor": rows_tensor,
           "learned_at_scale_sparse": lambda d: rows_at_scale(d, "learned_at_scale_sparse"),
           "learned_at_scale_transfer": lambda d: rows_at_scale(d, "learned_at_scale_transfer"),
           "learned_tensor_n200": lambda d: rows_tensor(d, "learned_tensor_n200"),
           "learned_at_scale_sparse_warm": lambda d: rows_at_scale(d, "learned_at_scale_sparse_warm"),
           "learned_tensor_n200_warm": lambda d: rows_tensor(d, "learned_tensor_n200_warm"),
           "learned_escape": rows_escape,
           "learned_comparisons": rows_comparisons, "learned_autoregressive": rows_autoregressive,
           "learned_colouring": rows_colouring, "learned_colouring_damped": rows_colouring}


def collect(figures: Path) -> dict:
    """The report of the JSON files under ``figures`` (module docstring)."""
    report = {"sources": {}, "rows": [], "missing": []}
    for name in SOURCES:
        path = figures / f"{name}.json"
        if not path.exists():
            report["missing"].append(str(path))
            continue
        d = json.loads(path.read_text())
        meta = d.get("meta") or d.get("machine") or {}
        report["sources"][name] = {"json": str(path), "figure": str(path.with_suffix(".png")),
                                   "machine": meta, "modified": time.strftime(
                                       "%Y-%m-%d %H:%M", time.gmtime(path.stat().st_mtime))}
        report["rows"] += EXTRACT[name](d)
    return report


def markdown(report: dict) -> str:
    lines = ["| source | statement | value | target | met |", "|---|---|---|---|---|"]
    for r in report["rows"]:
        v = r["value"]
        v = (f"{v:.4g}" if isinstance(v, float) else ", ".join(f"{u:.4g}" for u in v) if isinstance(v, list)
             else str(v))
        met = {True: "yes", False: "no", None: "-"}[r["met"]]
        lines.append(f"| {r['source']} | {r['statement']} | {v} | {r['target']} | {met} |")
    if report["missing"]:
        lines.append("")
        lines.append("missing: " + ", ".join(report["missing"]))
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", action="store_true", help="run the learned benchmarks first (one after the other)")
    ap.add_argument("--quick", action="store_true", help="with --run: their smoke modes, into --out")
    ap.add_argument("--out", default=None, help="folder of the JSON files and of the report (default docs/figures; "
                                                "with --quick a scratch folder is required)")
    args = ap.parse_args(argv)
    default = HERE.parent / "docs" / "figures"
    if args.quick and args.out is None:
        ap.error("--quick writes smoke results: give --out (a scratch folder), the record under docs/figures stays")
    out = Path(args.out) if args.out else default
    out.mkdir(parents=True, exist_ok=True)
    if args.run:
        for name in SOURCES:
            script, extra = RUNS.get(name, (f"{name}.py", []))
            if args.quick:  # the smoke mode's own sizes: drop a record's size options
                extra = [a for i, a in enumerate(extra) if a not in SIZE_OPTIONS
                         and (i == 0 or extra[i - 1] not in SIZE_OPTIONS)]
            cmd = [sys.executable, str(HERE / script), *extra, "--out", str(out)] + (["--quick"] if args.quick else [])
            print("running", " ".join(cmd), flush=True)
            t0 = time.time()
            done = subprocess.run(cmd)
            print(f"{name}: exit {done.returncode} after {time.time() - t0:.0f} s", flush=True)
            if done.returncode != 0:
                return done.returncode
            if args.quick:  # the scripts name their smoke outputs *_quick.json; the report reads plain names
                for q in out.glob(f"{name}_quick.*"):
                    q.replace(q.with_name(q.name.replace("_quick", "")))
    report = collect(out)
    (out / "learned_report.json").write_text(json.dumps(report, indent=1))
    text = markdown(report)
    (out / "learned_report.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
