"""Judging samplers: the theory that predicts, the measures that judge, the machinery that runs experiments.

Four rooms, each importing only from the rooms listed before it (and from ``spinglass`` and ``samplers``;
nothing below ``analysis`` imports it):

* :mod:`analysis.theory` — state evolution, free entropies, transitions along the generative paths,
  phase diagrams, population dynamics of the sparse models;
* :mod:`analysis.measures` — metrics of samples against exact laws and planted configurations, side-by-side
  comparisons of samplers, trajectories of the generative samplers beside state evolution;
* :mod:`analysis.experiments` — sweep specifications, the sampler registry, task execution (local processes
  or Dask), the results table, plots, the demo;
* :mod:`analysis.reproduction` — the PNAS study end to end, built from the three rooms above.

The ``spinglass`` command (:mod:`analysis.cli`) sits on top of all four.  ``docs/architecture.md`` draws
the whole map; ``tests/test_layering.py`` holds it.
"""
