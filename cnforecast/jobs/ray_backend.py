"""``forecast-batch --ray [ADDRESS]``: the batch job sharded over the workers of a Ray cluster.

The driver lists the input files, settles on the driver what needs no worker (outputs that
already exist are skipped: the job stays resumable; two inputs that would write the same
output are reported), and deals the remaining files round-robin into one shard per worker.
Each worker is a Ray actor that loads the model once and runs the ordinary batch job
(:func:`cnforecast.jobs.batch.forecast_batch_job`) on its shard, so every guarantee of the
one-process job holds per file: outputs written atomically, a bad file reported and the
others done. The driver merges the workers' outcomes into one ``_summary.json``; a worker
that dies (killed, out of memory) has its unfinished files reported as failed.

Ray is optional (``pip install 'ray>=2.9'``; it comes with the ``baselines`` extra) and is
imported only here. The model directory, the inputs and the output folder must be paths that
every node of the cluster can read (and, for the output folder, write): on one machine any
path; on a cluster a shared file system.

Pointing at a cluster: ``--ray`` alone starts a local Ray instance on this machine (one
worker per CPU); ``--ray auto`` joins the cluster this machine belongs to (``ray start``
ran here, or ``RAY_ADDRESS`` is set); ``--ray ray://HEAD:10001`` connects through Ray Client
to a remote head node.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnforecast.jobs.errors import JobError

logger = logging.getLogger(__name__)

#: ``--ray`` without an address: start a local Ray instance.
LOCAL = "local"


@dataclass(frozen=True)
class BatchTask:
    """Everything a worker needs besides its files (plain values: it travels to the workers)."""

    model_dir: str
    out_dir: str
    n: int
    batch_size: int
    num_samples: int | None
    quantiles: tuple[float, ...]
    output_format: str
    fill: str | None
    overwrite: bool
    accelerator: str
    max_rollouts: int | None = None
    series_per_call: int = 4096
    engine: str = "auto"


def import_ray() -> Any:
    """The ``ray`` module, or a :class:`JobError` that says how to install it."""
    try:
        import ray
    except ImportError:
        raise JobError(
            "--ray needs the ray package, which is not installed; install it with "
            "`pip install 'ray>=2.9'` (or the cnforecast 'baselines' extra), or drop --ray"
        ) from None
    return ray


class BatchWorker:
    """A Ray actor: loads the model once, then forecasts shards of files with it."""

    def __init__(self, task: BatchTask) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver decides when to stop
        from cnforecast.jobs.predict import open_model

        self.task = task
        self.forecaster = open_model(
            task.model_dir,
            task.accelerator,
            quiet=True,
            engine=task.engine,  # type: ignore[arg-type]
        )
        # Ray gives each worker OMP_NUM_THREADS (its CPUs); ONNX Runtime reads it too
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(
                max(1, int(os.environ.get("OMP_NUM_THREADS", "1")))
            )

    def run(self, files: Sequence[str]) -> dict[str, Any]:
        """Forecast ``files``; return the outcome as the summary's lists."""
        from cnforecast.jobs.batch import forecast_files

        task = self.task
        summary = forecast_files(
            self.forecaster,
            [Path(f) for f in files],
            Path(task.out_dir),
            task.n,
            batch_size=task.batch_size,
            num_samples=task.num_samples,
            quantiles=task.quantiles,
            output_format=task.output_format,
            fill=task.fill,  # type: ignore[arg-type]
            overwrite=task.overwrite,
            max_rollouts=task.max_rollouts,
            series_per_call=task.series_per_call,
        )
        return {
            "written": summary.written,
            "skipped": summary.skipped,
            "failed": summary.failed,
            "n_series": summary.n_series,
            "n_predict_calls": summary.n_predict_calls,
        }


def shard(files: Sequence[Path], n_shards: int) -> list[list[str]]:
    """Deal ``files`` round-robin into at most ``n_shards`` non-empty shards.

    Examples
    --------
    >>> shard([Path("a"), Path("b"), Path("c")], 2)
    [['a', 'c'], ['b']]
    """
    n_shards = max(1, min(n_shards, len(files)))
    return [[str(f) for f in files[i::n_shards]] for i in range(n_shards)]


def connect(address: str | None, num_cpus: int | None = None) -> Any:
    """Initialise Ray: a local instance (``None`` or ``"local"``), or join ``address``."""
    ray = import_ray()
    if ray.is_initialized():
        return ray
    kwargs: dict[str, Any] = {
        "include_dashboard": False,
        "logging_level": logging.WARNING,
        "log_to_driver": False,
    }
    handlers = _signal_handlers()
    try:
        if address in (None, "", LOCAL):
            if num_cpus is not None:
                kwargs["num_cpus"] = num_cpus
            # always a new instance of this job's own: never join (and never be shut down
            # with) another program's local instance that happens to run on this machine
            ray.init(address="local", **kwargs)
        else:
            ray.init(address=address, **kwargs)
    except Exception as exc:  # ray raises ConnectionError, RuntimeError, ValueError...
        raise JobError(
            f"cannot start or reach Ray at {address or 'a new local instance'}: {exc}; check "
            "the address (auto, or ray://HEAD:10001) and that the cluster is running"
        ) from None
    finally:
        _restore_signal_handlers(handlers)  # Ray replaces them with its own (exit, abort)
    return ray


def _signal_handlers() -> dict[int, Any]:
    return {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}


def _restore_signal_handlers(handlers: dict[int, Any]) -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    for signum, handler in handlers.items():
        if handler is not None and signal.getsignal(signum) is not handler:
            signal.signal(signum, handler)


def forecast_batch_ray(
    files: Sequence[Path],
    task: BatchTask,
    summary: Any,
    *,
    address: str | None = None,
    num_workers: int | None = None,
) -> None:
    """Forecast ``files`` on Ray workers, recording the outcome in ``summary``.

    The caller (:func:`~cnforecast.jobs.batch.forecast_batch_job` with ``ray=...``) has
    already listed the inputs, checked the output folder, taken out the files to skip, and
    writes the one summary, also when this function is interrupted: then the workers are
    stopped and the outputs they finished are added to ``summary.written`` first.

    Parameters
    ----------
    files
        The inputs to forecast.
    task
        The settings every worker runs with.
    summary
        A :class:`~cnforecast.jobs.batch.BatchSummary` to fill in.
    address
        ``None`` or ``"local"`` for a local Ray instance, ``"auto"`` or ``"ray://HEAD:10001"``
        to join a cluster.
    num_workers
        Workers to start (default: one per CPU of the cluster, at most one per file).
    """
    ray = connect(address)
    available = int(ray.cluster_resources().get("CPU", 1))
    shards = shard(list(files), max(1, num_workers or available))
    actor = ray.remote(num_cpus=1, max_restarts=0)(BatchWorker)
    workers = [actor.remote(task) for _ in shards]
    pending = {w.run.remote(s): (w, s) for w, s in zip(workers, shards)}
    logger.info("forecasting %d files on %d Ray workers", len(files), len(shards))
    try:
        while pending:
            # a timeout, so that a signal is handled within a second, not when a shard ends
            done, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
            if not done:
                continue
            worker, shard_files = pending.pop(done[0])
            try:
                result = ray.get(done[0])
            except Exception as exc:  # the worker died, or could not load the model
                reason = _ray_error(exc)
                _remove_partial_writes(shard_files, task)
                for source in shard_files:
                    target = _output_of(source, task)
                    if target.exists():
                        summary.written.append(str(target))
                    else:
                        summary.failed.append(
                            {"file": source, "error": f"Ray worker failed: {reason}"}
                        )
                continue
            finally:
                _stop(ray, worker)
            summary.written += result["written"]
            summary.skipped += result["skipped"]
            summary.failed += result["failed"]
            summary.n_series += result["n_series"]
            summary.n_predict_calls += result["n_predict_calls"]
    except BaseException as exc:  # interrupted: stop the workers, keep what they finished
        for worker, shard_files in pending.values():
            _stop(ray, worker)
            _remove_partial_writes(shard_files, task)
            summary.written += [
                str(_output_of(f, task)) for f in shard_files if _output_of(f, task).exists()
            ]
        stop = _interruption(exc)
        if stop is not None and stop is not exc:
            raise stop from None  # Ray wraps a signal raised inside it in a SystemError
        raise


def _interruption(exc: BaseException) -> BaseException | None:
    """The stop request (SIGINT, SIGTERM) behind ``exc``, if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if not isinstance(current, Exception):  # KeyboardInterrupt, JobInterrupted
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _stop(ray: Any, worker: Any) -> None:
    try:
        ray.kill(worker)
    except Exception as exc:  # Ray itself may be going down (Ctrl-C reaches it too)
        logger.debug("could not stop a Ray worker: %s", exc)


def _remove_partial_writes(files: Sequence[str], task: BatchTask) -> None:
    """Delete the temporary files of outputs a killed worker was writing.

    Outputs are written to ``.<name>.<random>.tmp`` and renamed into place; a worker killed
    in between leaves the temporary file, never a partial output.
    """
    for source in files:
        target = _output_of(source, task)
        for tmp in target.parent.glob(f".{target.name}.*.tmp"):
            tmp.unlink(missing_ok=True)


def _output_of(source: str, task: BatchTask) -> Path:
    return Path(task.out_dir) / f"{Path(source).stem}.{task.output_format}"


def _ray_error(exc: BaseException) -> str:
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException):
        return f"{type(cause).__name__}: {cause}".strip().splitlines()[0]
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__
