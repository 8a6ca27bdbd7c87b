"""The experiment machinery: a sweep from its TOML specification to a tidy results table and figures.

:mod:`.registry` (the sweep vocabulary's building blocks: typed settings, sampler kinds and their
registry), :mod:`.sweep_samplers` (every sampler family registered as a sweep sampler),
:mod:`.sweep_spec` (model families, metrics, parsing and validation before anything runs),
:mod:`.execution` (running independent tasks on local processes or a Dask cluster, with retries),
:mod:`.sweep` (a sweep's tasks, their identities and resumption), :mod:`.results` (the Parquet dataset),
:mod:`.plots` and :mod:`.demo` (the quickstart job); bundled specs under ``specs/``.  This room imports
``spinglass``, ``samplers``, :mod:`analysis.theory` and :mod:`analysis.measures`; never the reproduction
or the command line.
"""

from .sweep import SweepSummary, expand, run_sweep
from .sweep_spec import SpecError, SweepSpec, load_spec, parse_spec, parse_spec_text

__all__ = ["load_spec", "parse_spec", "parse_spec_text", "SpecError", "SweepSpec", "run_sweep", "expand",
           "SweepSummary"]
