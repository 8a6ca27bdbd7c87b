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

Nothing finished is lost.  A task re-run for metrics its part-file lacks (the spec's ``metrics`` grew)
computes only those, and :func:`merge_part` writes the old rows together with the new ones (a metric
computed again replaces its old row, every other old row is kept).  A part-file that cannot be read is
moved aside to ``part-<task_id>.parquet.unreadable-<n>`` (never deleted) before its task writes again.

Ownership.  The directory records the sweeps it holds in ``_sweep.json`` (names and model families;
readers ignore files starting with ``_``).  :func:`claim` refuses to write a different sweep into it (a
one-line ``ValueError``) unless asked to append, so that rows of unrelated sweeps are never mixed silently.
"""

from __future__ import annotations

import contextlib
import json
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
#: The file in a results directory that records the sweeps it holds.
MANIFEST = "_sweep.json"


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
    return _write_table(root, task_id, pa.Table.from_pylist([{k: v for k, v in r.items() if v is not None}
                                                             for r in rows]))


def merge_part(root: str | Path, task_id: str, rows: Sequence[dict]) -> Path:
    """Add ``rows`` to the part-file of ``task_id``, keeping every old row whose metric they do not hold.

    Without a readable part-file this is :func:`write_part` (an unreadable one is first moved aside, see the
    module docstring).  The merged file replaces the old one atomically, so a crash leaves either.
    """
    if not rows:
        raise ValueError(f"rows: a task writes at least one row, got none for task {task_id!r}")
    root = Path(root)
    final = part_path(root, task_id)
    if not final.exists():
        return write_part(root, task_id, rows)
    try:
        old = pq.read_table(final)
    except pa.ArrowInvalid:  # not Parquet (truncated, garbage): kept aside; an OSError (EMFILE, NFS) propagates
        set_aside(final)
        return write_part(root, task_id, rows)
    new = pa.Table.from_pylist([{k: v for k, v in r.items() if v is not None} for r in rows])
    fresh = set(new.column("metric").to_pylist())
    keep = old.filter(pa.array([m not in fresh for m in old.column("metric").to_pylist()], type=pa.bool_()))
    merged = pa.concat_tables([keep, new], promote_options="permissive") if keep.num_rows else new
    return _write_table(root, task_id, merged)


def set_aside(path: Path) -> Path:
    """Rename an unreadable part-file to ``<name>.unreadable-<k>`` (first free k) and return the new path
    (a hard link then an unlink, so that an existing target is never replaced)."""
    k = 0
    while True:
        target = path.with_name(f"{path.name}.unreadable-{k}")
        try:
            os.link(path, target)
        except FileExistsError:
            k += 1
            continue
        os.unlink(path)
        return target


@contextlib.contextmanager
def writer_lock(root: str | Path):
    """Hold the results directory's writer lock (``_sweep.lock``, an exclusive ``flock``) for the block:
    one sweep (or ``spinglass sample --out``) writes into a directory at a time, so that merges and the
    manifest are never raced; ``ValueError`` naming the output when another process holds it.  Without
    ``fcntl`` (Windows) the block runs unlocked."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - POSIX only
        yield
        return
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "_sweep.lock", "a") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ValueError(f"output: another process is writing results into {str(root)!r} (its "
                             "_sweep.lock is held); wait for it, or choose another output") from None
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _write_table(root: Path, task_id: str, table: pa.Table) -> Path:
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
    """Finished tasks under ``root``: task id -> the metrics its part-file holds.

    An unreadable part-file counts as not finished (its task runs again; :func:`merge_part` moves the file
    aside first)."""
    done = {}
    for p in part_files(root):
        task_id = p.name[len(PART_PREFIX):-len(PART_SUFFIX)]
        try:
            metrics = pq.read_table(p, columns=["metric"]).column("metric").to_pylist()
        except (OSError, pa.ArrowException):
            continue
        done[task_id] = frozenset(metrics)
    return done


def check_writable(root: str | Path) -> Path:
    """Create ``root`` if needed and prove it writable with a probe file; ``ValueError`` naming the output."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise ValueError(f"output: must be a directory for the part-files, got the file {str(root)!r}")
    probe = root / f".write-probe-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ValueError(f"output: cannot write results to {str(root)!r} ({exc.strerror or exc})") from None
    return root


def sweeps_in(root: str | Path) -> list[dict]:
    """The sweeps recorded in ``root``'s manifest (``[]`` when there is none)."""
    path = Path(root) / MANIFEST
    if not path.exists():
        return []
    try:
        return list(json.loads(path.read_text())["sweeps"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"output: the manifest {str(path)!r} is unreadable ({exc}); move it away to reuse "
                         "this directory") from None


def claim(root: str | Path, name: str, family: str, *, append: bool = False, version: str = "") -> None:
    """Record that sweep ``name`` (model family ``family``) writes into ``root``, or refuse.

    A directory that holds another sweep (another name or family) is refused with a one-line ``ValueError``
    unless ``append`` is True; then the sweep is added to the manifest.  A directory written before
    manifests existed is adopted when its rows are of the same family.
    """
    root = Path(root)
    recorded = sweeps_in(root)
    if not recorded:
        files = part_files(root)
        families: set = set()
        for f in files:
            try:
                families |= set(pq.read_table(f, columns=["family"]).column("family").to_pylist())
            except (OSError, pa.ArrowException, KeyError):
                continue
        if files and not families:
            families = {"(unreadable part-files)"}
        recorded = [{"name": None, "family": f} for f in sorted(families)]
    mine = {"name": name, "family": family}
    if any(r.get("name") == name and r.get("family") == family for r in recorded):
        return
    others = [r for r in recorded if r.get("family") != family or r.get("name") not in (None, name)]
    if others and not append:
        held = ", ".join(f"{r.get('name') or '(unnamed)'} ({r.get('family')})" for r in others)
        raise ValueError(f"output: {str(root)!r} holds the results of another sweep: {held}; this is {name} "
                         f"({family}). Choose another output, or append to it (--append / append=True)")
    entries = [r for r in recorded if r.get("name") is not None or r.get("family") != family]
    entries.append({**mine, "version": version})
    tmp = root / f".{MANIFEST}.{os.getpid()}.{uuid.uuid4().hex[:8]}{_TMP_SUFFIX}"
    tmp.write_text(json.dumps({"sweeps": entries}, indent=1))
    os.replace(tmp, root / MANIFEST)


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
    their columns, missing entries null (NaN for floats; integer columns stay integers, pandas ``Int64``
    with ``<NA>``).  Rows are sorted by task id then metric, and
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
        schema = pa.unify_schemas([_schema(f) for f in files], promote_options="permissive")
        table = ds.dataset([str(f) for f in files], schema=schema, format="parquet").to_table()
    df = table.to_pandas()
    for f in table.schema:  # an integer setting only some samplers have stays integer (nullable), not float
        if pa.types.is_integer(f.type) and table.column(f.name).null_count:
            df[f.name] = pd.array(table.column(f.name).to_pylist(), dtype="Int64")
    df = df[_column_order(df.columns)]
    sort = [c for c in ("task_id", "metric") if c in df.columns]
    return df.sort_values(sort, kind="stable").reset_index(drop=True) if sort else df


def _schema(path: Path) -> pa.Schema:
    try:
        return pq.read_schema(path)
    except (OSError, pa.ArrowException) as exc:
        raise ValueError(f"path: the part-file {str(path)!r} is unreadable ({exc}); move it away (its task runs "
                         "again on the next sweep)") from None


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
