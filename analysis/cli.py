"""The ``spinglass`` command line.  Subcommands: ``demo`` (the quickstart job)."""

from __future__ import annotations

import argparse
import sys


def _demo(args: argparse.Namespace) -> int:
    from .demo import format_table, run_demo

    rows = run_demo(out_dir=args.out, L=args.L, sweeps=args.sweeps, n_chains=args.chains, seed=args.seed)
    print(format_table(rows))
    print(f"\nwrote {args.out}/results.csv, {args.out}/results.json and {args.out}/ising2d.png")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spinglass", description="Samplers for spin-glass and planted models.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="2D Ising sweep with Metropolis and heat bath vs Onsager (table + PNG)")
    demo.add_argument("--out", default="demo_output", help="output folder (default: demo_output)")
    demo.add_argument("--L", type=int, default=16, help="lattice side (default 16)")
    demo.add_argument("--sweeps", type=int, default=3000, help="sweeps per chain (default 3000)")
    demo.add_argument("--chains", type=int, default=8, help="chains per temperature (default 8)")
    demo.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    demo.set_defaults(func=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError) as exc:
        print(f"spinglass: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
