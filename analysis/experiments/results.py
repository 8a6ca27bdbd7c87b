r"""The tidy results dataset of a sweep: one Parquet part-file per task, written atomically.

Layout: the output path is a directory (conventionally named ``*.parquet``) holding one file
``part-<task_id>.parquet`` per finished task.  Each file holds that task's rows, one per metric, in
"tidy" form (one observation per row):

    task_id | family | <model parameters> | seed | sampler | sampler_name | sampler_<setting> ... |
    sampler_seed | metric | value | version | wall_time | task_time

``wall_time`` is the sampler's own timing (``Samples.wall_time``), ``task_time`` the whole task (model
construction, sampling, metrics).  Sampler settings that a sampler does not have are absent from its
files and null after :func:`load`.

Crash safety.  A part-file is written under a temporary name starting with ``.`` in the same directory,
flushed to disk, then renamed over its final name with ``os.replace`` (atomic on POSIX and Windows).  A
process killed at any instant (SIGKILL included) therefore leaves every finished task complete and no
partial part-file visible; the temporary leftovers start with ``.`` so that readers (pyarrow datasets,
:func:`load`) ignore them, and :func:`clean_temporary` removes those whose writer is gone.  Because a
task's file name is its id, re-running a task replaces its file instead of adding rows: a row is never
duplicated.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

#: Columns every row has, besides the model parameters and the ``sampler_*`` settings.
LEADING_COLUMNS = ("task_id", "family")
TRAILING_COLUMNS = ("seed", "sampler", "sampler_name")
RESULT_COLUMNS = ("metric", "value", "version", "wall_time", "task_time")
#: Columns that are measurements of time (they differ between two runs of the same task).
TIME_COLUMNS = ("wall_time", "task_time")
PART_PREFIX = "part-"
PART_SUFFIX = ".parquet"
_TMP_SUFFIX = ".tmp"


def part_path(root: str | Path, task_id: str) -> Path:
    """Final path of the part-file of ``task_id``."""
    return Path(root) / f"{PART_PREFIX}{task_id}{PART_SUFFIX}"


def part_files(root: str | Path) -> list[Path]:
    """The finished part-files under ``root``, sorted by name."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.name.startswith(PART_PREFIX) and p.name.endswith(PART_SUFFIX))


def write_part(root: str | Path, task_id: str, rows: Sequence[dict]) -> Path:
    """Write one task's rows atomically as ``part-<task_id>.parquet`` under ``root`` and return its path.

    The rows are dicts of scalars (int, float, str, bool; None entries are dropped, so the column is null
    after :func:`load`).  Temporary file -> fsync -> ``os.replace``: see the module docstring.
    """
    if not rows:
        raise ValueError(f"rows: a task writes at least one row, got none for task {task_id!r}")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist([{k: v for k, v in r.items() if v is not None} for r in rows])
    final = part_path(root, task_id)
    tmp = root / f".{final.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}{_TMP_SUFFIX}"
    try:
        with open(tmp, "wb") as fh:
            pq.write_table(table, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()
    return final


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def clean_temporary(root: str | Path) -> int:
    """Remove temporary part-files left by writers that no longer run (e.g. killed); returns the count."""
    root = Path(root)
    if not root.is_dir():
        return 0
    removed = 0
    for p in root.iterdir():
        if not (p.name.startswith("." + PART_PREFIX) and p.name.endswith(_TMP_SUFFIX)):
            continue
        try:
            pid = int(p.name.split(".")[-3])
        except (ValueError, IndexError):
            continue
        if pid != os.getpid() and not _pid_alive(pid):
            p.unlink(missing_ok=True)
            removed += 1
    return removed


def completed(root: str | Path) -> dict[str, frozenset[str]]:
    """Finished tasks under ``root``: task id -> the metrics its part-file holds."""
    done = {}
    for p in part_files(root):
        task_id = p.name[len(PART_PREFIX):-len(PART_SUFFIX)]
        try:
            metrics = pq.read_table(p, columns=["metric"]).column("metric").to_pylist()
        except (OSError, pa.ArrowException):
            continue  # unreadable: treated as not finished, so the task runs again and replaces it
        done[task_id] = frozenset(metrics)
    return done


def _column_order(names: Iterable[str]) -> list[str]:
    names = list(names)
    fixed = set(LEADING_COLUMNS) | set(TRAILING_COLUMNS) | set(RESULT_COLUMNS)
    params = [c for c in names if c not in fixed and not c.startswith("sampler_")]
    sampler = [c for c in names if c.startswith("sampler_") and c not in fixed and c != "sampler_seed"]
    order = [*LEADING_COLUMNS, *params, "seed", "sampler", "sampler_name", *sampler, "sampler_seed", *RESULT_COLUMNS]
    return [c for c in order if c in names]


def load(path: str | Path) -> pd.DataFrame:
    """The results dataset at ``path`` (a directory of part-files, or one Parquet file) as a DataFrame.

    Part-files with different columns (e.g. settings that only one sampler has) are merged on the union of
    their columns, missing entries null (NaN for numbers).  Rows are sorted by task id then metric, and
    columns ordered: task id, family, model parameters, seed, sampler and its settings, metric, value,
    version and timings.  Raises ``ValueError`` when there is nothing to read.
    """
    path = Path(path)
    if path.is_file():
        table = pq.read_table(path)
    else:
        files = part_files(path)
        if not files:
            raise ValueError(f"path: no results (no {PART_PREFIX}*{PART_SUFFIX} files) in {str(path)!r}")
        schema = pa.unify_schemas([pq.read_schema(f) for f in files], promote_options="permissive")
        table = ds.dataset([str(f) for f in files], schema=schema, format="parquet").to_table()
    df = table.to_pandas()
    df = df[_column_order(df.columns)]
    sort = [c for c in ("task_id", "metric") if c in df.columns]
    return df.sort_values(sort, kind="stable").reset_index(drop=True) if sort else df


def parameter_columns(df: pd.DataFrame) -> list[str]:
    """The columns that identify a task's configuration (model parameters, seed, sampler and its settings)."""
    skip = {"task_id", "sampler_seed", *RESULT_COLUMNS}
    return [c for c in df.columns if c not in skip]


def aggregate(df: pd.DataFrame, metric: str, over: str = "seed") -> pd.DataFrame:
    """Mean, standard error and count of ``metric`` across ``over`` (default: the instance seeds).

    Groups by every other configuration column (:func:`parameter_columns` minus ``over``), keeping
    configurations with null settings.  The standard error is std(ddof=1)/sqrt(count) (NaN for one seed).
    Columns: the group columns, ``mean``, ``sem``, ``count``.
    """
    available = set(df["metric"])
    if metric not in available:
        raise ValueError(f"metric: {metric!r} is not in the results (available: {', '.join(sorted(available))})")
    sel = df[df["metric"] == metric]
    keys = [c for c in parameter_columns(df) if c != over and sel[c].notna().any()]
    grouped = sel.groupby(keys, dropna=False, sort=True)["value"]
    out = grouped.agg(["mean", "std", "count"]).reset_index()
    out["sem"] = out["std"] / np.sqrt(out["count"])
    return out.drop(columns="std")
