"""The result files' format, in one place: layout, file names, format version, row codec and readers.

Layout (documented in docs/results.md)::

    <root>/<experiment>/<task>/<baseline>/<seed>/
        metadata.json        baseline + options, task description (bounds, reference point, data hash),
                             seed, budget, versions, device, status ("running" | "complete")
        evaluations.jsonl    one JSON object per finished evaluation, flushed as it is written
        evaluations.parquet  the same rows, written when the run completes (the .jsonl is then removed)
        .lock                held (flock) by the one process that writes the run

Both the suite (which writes) and ``analysis`` (which reads from the files alone) import this module, so
it imports nothing of the run loop, Dask or the baselines, and the task vocabulary (ConfigSpace) only
where a row is decoded back into a trial and a result. pandas (half a second to import) only where a reader
hands out a frame: a run writes its parquet with pyarrow alone (``rows_table``). No pickle anywhere:
configurations and info are JSON.
"""

from __future__ import annotations

import functools
import io
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from tasks.base import Result, Trial

FORMAT_VERSION = 1
METADATA = "metadata.json"
ROWS = "evaluations.jsonl"
PARQUET = "evaluations.parquet"
LOCK = ".lock"

Row = dict[str, Any]

#: the way past a run folder the suite cannot use: its files are results someone made, so only the user
#: discards them
REDO = "move the folder away (or delete it) and run again; --fresh starts every run of the suite over"


class ResultsError(ValueError):
    """A results folder that cannot be used as it is (another format version, a damaged row, another run)."""


def run_folder(root: Path, experiment: str, task: str, baseline: str, seed: int) -> Path:
    return root / experiment / task / baseline / str(seed)


def to_json(value: Any, **options: Any) -> str:
    """``value`` as JSON text; numpy scalars as numbers, tuples and sets as lists."""
    return (_encoder(**options) if options else _PLAIN).encode(value)


@functools.lru_cache(maxsize=None)
def _encoder(**options: Any) -> json.JSONEncoder:
    # what json.dumps builds on every call with these options: made once, it halves a row's encoding time
    return json.JSONEncoder(default=_json_default, **options)


def as_json(value: Any) -> Any:
    """``value`` as it reads back from a JSON file."""
    return json.loads(to_json(value))


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, (tuple, set)):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


#: the encoders rows use, made once: ``to_json`` with options looks one up per call, a fifth of a row's time
_PLAIN = json.JSONEncoder(default=_json_default)
_SORTED = json.JSONEncoder(default=_json_default, sort_keys=True)


def _finite_or_none(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def make_row(
    trial: Trial, result: Result, objective_names: Sequence[str], start: float, end: float, worker: int,
    eval_seed: int,
) -> Row:
    """One evaluation as a flat record; NaN is written as null so every line is strict JSON."""
    row: Row = {
        "trial_id": trial.id,
        "config": _SORTED.encode(trial.config),
        "fidelity": trial.fidelity,
        "status": result.status,
        "reason": result.info.get("reason", ""),
        "cost_s": float(result.cost_s),
        "start": float(start),
        "end": float(end),
        "worker": int(worker),
        "eval_seed": int(eval_seed),
    }
    for name, objective, expected in _columns(tuple(objective_names)):
        row[objective] = _finite_or_none(result.objectives.get(name))
        if result.expected is not None:
            row[expected] = _finite_or_none(result.expected.get(name))
    row["info"] = _SORTED.encode({k: v for k, v in result.info.items() if k != "reason"})
    return row


@functools.lru_cache(maxsize=None)
def _columns(objective_names: tuple[str, ...]) -> tuple[tuple[str, str, str], ...]:
    """(name, its objective column, its expected column) of each objective: made once per task, not per row."""
    return tuple((name, f"objective.{name}", f"expected.{name}") for name in objective_names)


def trial_from_row(row: Row) -> Trial:
    from tasks.base import Trial  # here, not at the top: analysis reads rows without ConfigSpace

    return Trial(id=int(row["trial_id"]), config=json.loads(row["config"]), fidelity=row.get("fidelity"))


def result_from_row(row: Row, objective_names: Sequence[str]) -> Result:
    """The Result a recorded row stands for (JSON floats round-trip exactly; null is NaN)."""
    from tasks.base import Result  # see trial_from_row

    def value(column: str) -> float:
        found = row.get(column)
        return math.nan if found is None else float(found)

    info = json.loads(row.get("info") or "{}")
    if row.get("reason"):
        info["reason"] = row["reason"]
    expected = None
    if any(f"expected.{n}" in row for n in objective_names):
        expected = {n: value(f"expected.{n}") for n in objective_names}
    objectives = {n: value(f"objective.{n}") for n in objective_names if row.get(f"objective.{n}") is not None}
    return Result(objectives=objectives, cost_s=float(row["cost_s"]), info=info, status=row["status"],
                  expected=expected)


def iter_rows(path: Path) -> Iterator[Row]:
    """The rows of a .jsonl file; a damaged line raises ResultsError naming the file and line, except a
    torn last line (a crash in the middle of a write), which is dropped."""
    lines = path.read_text(encoding="utf-8").split("\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):  # no newline after it: the write was cut off
                return
            raise ResultsError(f"{path}: line {number} is damaged (not JSON); {REDO}") from None


def rows_table(path: Path) -> pa.Table:
    """The rows of a .jsonl file (as ``iter_rows`` reads them) as the Arrow table that
    ``pandas.DataFrame.from_records(rows).to_parquet`` wrote before, column for column: in order of first
    appearance; a column of only None is null, of integers int64, of numbers with a float, a None or a row
    without it float64 (pandas fills a missing value with NaN), of strings large_string, of booleans bool
    (None and missing values null).

    Without pandas, which costs a run half a second to import, and without ``pyarrow.array``, which imports
    it: pyarrow's JSON reader parses the file (in C++, several times faster than ``json.loads`` per row;
    JSON numbers round-trip exactly), then each column is cast to its type above, or the file read again
    into them where the reader took a string for a date. The one difference is that the file carries no
    pandas schema metadata, which no reader needs (``pd.read_parquet`` reads back the same columns and dtypes).
    """
    import pyarrow as pa
    import pyarrow.json as pa_json

    data = path.read_bytes()
    head, _, last = data.rpartition(b"\n")
    if last.strip():  # no newline after the last line: dropped if torn, as iter_rows drops it
        try:
            json.loads(last)
        except json.JSONDecodeError:
            data = head + b"\n"
    if not data.strip():
        return pa.schema([]).empty_table()

    def read(schema: pa.Schema | None) -> pa.Table:
        # one block: columns in order of first appearance, and no row split between blocks
        options = pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error") if schema else None
        try:
            return pa_json.read_json(io.BytesIO(data), read_options=pa_json.ReadOptions(block_size=len(data)),
                                     parse_options=options)
        except pa.ArrowInvalid as error:
            list(iter_rows(path))  # a damaged line: refused there, with its number
            raise ResultsError(f"{path}: {error}; a parquet column has one type") from None

    inferred = read(None)
    fields = []
    for field in inferred.schema:
        if pa.types.is_boolean(field.type) or pa.types.is_floating(field.type):
            kind = field.type
        elif pa.types.is_integer(field.type):
            kind = pa.float64() if inferred[field.name].null_count else pa.int64()
        elif pa.types.is_null(field.type):
            kind = pa.null() if _in_every_row(field.name, data, inferred.num_rows, path) else pa.float64()
        elif pa.types.is_string(field.type) or pa.types.is_temporal(field.type):
            kind = pa.large_string()
        else:
            raise ResultsError(f"{path}: column {field.name!r} holds nested values ({field.type}); a row holds "
                               "numbers, strings, booleans and nulls")
        fields.append(pa.field(field.name, kind))
    schema = pa.schema(fields)
    if any(pa.types.is_temporal(field.type) for field in inferred.schema):
        return read(schema)  # the strings as written, not the dates the reader made of them
    return inferred.cast(schema)


def _in_every_row(name: str, data: bytes, n_rows: int, path: Path) -> bool:
    """Whether every row of ``data`` (the file at ``path``) has the column ``name``, whose values are all null."""
    # rows are flat and a quote inside a string is escaped, so ``"name": null`` as the writer writes it (to_json)
    # occurs once in each row that has it: as many as rows proves it; fewer is checked on the parsed rows
    if data.count(_PLAIN.encode(name).encode() + b": null") == n_rows:
        return True
    return all(name in row for row in iter_rows(path))


def read_rows(path: Path) -> pd.DataFrame:
    """The rows of a .jsonl file as a frame (see ``iter_rows``)."""
    import pandas as pd

    records = list(iter_rows(path))
    return pd.DataFrame.from_records(records) if records else pd.DataFrame()


def read_metadata(folder: Path) -> dict[str, Any]:
    """A run's metadata.json; raises ResultsError for an unreadable file or another format version."""
    path = folder / METADATA
    try:
        metadata = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ResultsError(f"{path}: cannot read run metadata ({error})") from None
    if metadata.get("format_version") != FORMAT_VERSION:
        raise ResultsError(
            f"{path}: result format {metadata.get('format_version')!r}, this version reads {FORMAT_VERSION}"
        )
    return metadata


def parquet_problem(folder: Path, recorded: int | None) -> str | None:
    """What is wrong with a complete run's parquet (missing, unreadable, other than ``recorded`` rows), or None.

    The one check of a complete run's files, made by the suite before it skips a run and by the analysis
    before it reads one."""
    import pyarrow.parquet as pq

    path = folder / PARQUET
    if not path.exists():
        return f"{PARQUET} is missing"
    try:
        # every page decoded; not to pandas (half the time); ParquetFile, not read_table, whose dataset layer
        # imports pandas (a second, in the figure process that reads every run)
        with pq.ParquetFile(path) as file:
            n_rows = file.read().num_rows
    except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError
        return f"{PARQUET} cannot be read ({type(error).__name__})"
    if recorded is not None and n_rows != recorded:
        return f"{PARQUET} holds {n_rows} rows, the metadata records {recorded}"
    return None


def read_run(folder: Path) -> tuple[dict[str, Any], pd.DataFrame]:
    """Metadata and rows of one run, complete (parquet) or partial (jsonl)."""
    import pandas as pd

    metadata = read_metadata(folder)
    if (folder / PARQUET).exists():
        return metadata, pd.read_parquet(folder / PARQUET)
    if (folder / ROWS).exists():
        return metadata, read_rows(folder / ROWS)
    return metadata, pd.DataFrame()
