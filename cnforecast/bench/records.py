"""One structured record per benchmark run, stored as a JSON line.

A record holds everything needed to trust and reproduce a number: the resolved
configuration and model arguments, the seed, package versions, the git commit, the
dataset, L, H, the count of test windows, the metrics and the scale they are computed in,
and what the run cost (parameters, training and prediction time, epochs, peak memory,
device); the provenance fields come from :mod:`cnforecast.engine.provenance`. Every
record has every field of :data:`RECORD_FIELDS`; fields that do not apply (a skipped run
has no MSE) are ``null``.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from cnforecast.engine.provenance import git_commit, package_versions, to_jsonable

__all__ = [
    "METRIC_SCALE",
    "RECORD_FIELDS",
    "SCHEMA",
    "STATUSES",
    "fill_record",
    "iter_ok",
    "latest_records",
    "new_record",
    "read_records",
    "run_key",
    "write_record",
]

logger = logging.getLogger(__name__)

#: Identifies the layout of a record; bump when fields change meaning.
SCHEMA = "cnforecast.bench.record/1"
#: The scale of the metrics, stated in every record.
METRIC_SCALE = "standardised (train z-score)"
#: A run's outcome.
STATUSES = ("ok", "failed", "skipped")

#: The fields of every record, in the order they are written.
RECORD_FIELDS: tuple[str, ...] = (
    "schema",
    "run_id",
    "status",
    "error",
    "started_at",
    # what ran
    "model",
    "label",
    "dataset",
    "lookback",
    "horizon",
    "seed",
    "model_kwargs",
    "config",
    # provenance
    "versions",
    "git_commit",
    "git_dirty",
    "split",
    # accuracy
    "n_test_windows",
    "mse",
    "mae",
    "metric_scale",
    # the same metrics on every window of the validation split (what choices are made on)
    "n_val_windows",
    "val_mse",
    "val_mae",
    # cost
    "n_params",
    "n_train_windows",
    "train_windows_per_epoch",
    "train_time_s",
    "epochs_run",
    "time_per_epoch_s",
    "train_windows_per_s",
    "best_val_loss",
    "val_losses",
    "stopped_early",
    "predict_time_s",
    "peak_memory_mb",
    "peak_memory_kind",
    "device",
    "forecast_file",
)


def run_key(record: Mapping[str, Any]) -> tuple[Any, ...]:
    """What identifies a run: label, dataset, L, H and seed."""
    return (
        record.get("label"),
        record.get("dataset"),
        record.get("lookback"),
        record.get("horizon"),
        record.get("seed"),
    )


def new_record(**fields: Any) -> dict[str, Any]:
    """A record with every field of :data:`RECORD_FIELDS` (``fields`` filled in).

    ``schema``, ``started_at``, ``versions``, ``git_commit``, ``git_dirty`` and
    ``metric_scale`` are filled in automatically unless given.
    """
    record = fill_record(fields, RECORD_FIELDS, schema=SCHEMA, metric_scale=METRIC_SCALE)
    status = fields.get("status")
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
    return record


#: Where and with what a speed measurement ran: the last fields of the throughput and speed
#: record schemas.
WHERE_FIELDS: tuple[str, ...] = (
    "accelerator",
    "device",
    "threads",
    "versions",
    "git_commit",
    "git_dirty",
    "note",
)


def fill_record(
    fields: Mapping[str, Any],
    names: Sequence[str],
    *,
    schema: str,
    kind: str = "record",
    **auto: Any,
) -> dict[str, Any]:
    """``fields`` with every one of ``names``, in that order, as JSON values.

    ``schema``, ``started_at``, ``versions``, ``git_commit`` and ``git_dirty``, and the fields
    given as ``auto``, are filled in unless ``fields`` has them; the others default to
    ``None``. A field not in ``names`` raises :class:`KeyError` (``not {kind} fields: ...``).
    """
    unknown = sorted(set(fields) - set(names))
    if unknown:
        raise KeyError(f"not {kind} fields: {', '.join(unknown)}")
    commit, dirty = git_commit()
    defaults = {
        "schema": schema,
        "started_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "versions": package_versions(),
        "git_commit": commit,
        "git_dirty": dirty,
        **auto,
    }
    return to_jsonable({name: fields.get(name, defaults.get(name)) for name in names})


def write_record(path: str | Path, record: Mapping[str, Any]) -> None:
    """Append ``record`` as one JSON line to ``path`` (created with its folder if needed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(to_jsonable(record), allow_nan=False, sort_keys=False)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """All records of a JSON-lines file, in file order (blank lines are ignored)."""
    path = Path(path)
    records = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}:{number}: not a JSON record: {err}") from err
    return records


def latest_records(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One record per :func:`run_key`: the last one written (a rerun replaces a run)."""
    latest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for record in records:
        key = run_key(record)
        latest.pop(key, None)  # keep the order of the latest writes
        latest[key] = dict(record)
    return list(latest.values())


def iter_ok(records: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    """The records of runs that finished."""
    return (r for r in records if r.get("status") == "ok")
