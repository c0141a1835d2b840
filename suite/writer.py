"""Writes one run's folder: metadata first, rows appended and flushed as they finish, parquet at the end."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from suite.metadata import RunMetadata, timestamp
from suite.results_format import METADATA, PARQUET, REDO, ROWS, ResultsError, Row, iter_rows, rows_table, to_json


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(to_json(data, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)


class RunWriter:
    """Appends rows of one run; each row is flushed at once so a crash loses nothing finished."""

    def __init__(self, folder: Path, metadata: RunMetadata, n_rows: int = 0) -> None:
        """``n_rows`` counts the rows already in the folder's .jsonl when a partial run is resumed."""
        self.folder = folder
        self.metadata = metadata
        self.metadata.status = "running"
        folder.mkdir(parents=True, exist_ok=True)
        self._file = open(folder / ROWS, "a", encoding="utf-8")
        if not metadata.resumed and self._file.tell() != 0:
            # rows of an unknown run: the new run's rows must not follow them (checked before the
            # metadata is written, so the folder is left as it was)
            self._file.close()
            raise ResultsError(f"{folder}: {ROWS} holds rows but this is a new run; {REDO}")
        self._write_metadata()
        self.n_rows = n_rows

    def _write_metadata(self) -> None:
        write_json_atomic(self.folder / METADATA, self.metadata.to_json())

    def discard_rows(self) -> None:
        """Empty the .jsonl (a resumed run that must start over after all)."""
        self._file.truncate(0)
        self._file.flush()
        self.n_rows = 0

    def append(self, row: Row) -> None:
        self._file.write(to_json(row) + "\n")
        self._file.flush()
        self.n_rows += 1

    def complete(self, wall_s: float) -> None:
        """Compact the rows to parquet and mark the run complete (in that order: a crash in between
        leaves a run that is still "running", with its rows)."""
        self._file.close()
        self.metadata.status = "complete"
        self.metadata.n_evaluations = compact(self.folder)
        self.metadata.wall_s = wall_s
        self.metadata.finished = timestamp()
        self._write_metadata()
        (self.folder / ROWS).unlink()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def fail(self, error: str) -> None:
        """Close after an error that stops the run, recording it in the metadata (status stays "running",
        so a re-run resumes from the rows written so far)."""
        self.close()
        self.metadata.error = error
        self._write_metadata()


def compact(folder: Path) -> int:
    """Write the rows of ``folder``'s .jsonl to its parquet (whole or not at all) and return their number."""
    import pyarrow.parquet as pq

    table = rows_table(folder / ROWS)
    tmp = folder / (PARQUET + ".tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, folder / PARQUET)
    return table.num_rows


def recover_rows(path: Path) -> list[Row]:
    """The rows of a partial run's .jsonl, cutting off a torn last line in the file itself so that
    rows appended later start on a line of their own. A damaged middle line raises ResultsError."""
    if not path.exists():
        return []
    records = list(iter_rows(path))
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with open(path, "r+b") as file:
            file.truncate(data.rfind(b"\n") + 1)
    return records
