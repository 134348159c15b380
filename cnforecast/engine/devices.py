"""The device a run uses: its description, peak memory, and torch's CPU threads."""

from __future__ import annotations

import contextlib
import os
import platform
import resource
import sys
from collections.abc import Iterator
from typing import Any

import torch

__all__ = [
    "describe_device",
    "peak_memory",
    "reset_peak_memory",
    "torch_threads",
    "uses_cuda",
]


def uses_cuda(model: Any = None) -> bool:
    """Whether a darts model's trainer runs on a GPU (without a trainer: whether one exists)."""
    trainer = getattr(model, "trainer", None)
    if trainer is not None:
        return trainer.strategy.root_device.type == "cuda"
    return torch.cuda.is_available()


def describe_device(model: Any = None) -> str:
    """A short description of the device a model trained on (GPU name, or CPU and cores)."""
    if uses_cuda(model):
        return f"cuda: {torch.cuda.get_device_name(torch.cuda.current_device())}"
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            names = [line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"cpu: {cpu}, {cores} cores, {torch.get_num_threads()} torch threads"


def reset_peak_memory() -> None:
    """Reset the GPU peak-memory counter (the CPU's peak RSS cannot be reset)."""
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()


def peak_memory(cuda: bool) -> tuple[float, str]:
    """Peak memory in MiB and what it measures.

    On a GPU, ``torch.cuda.max_memory_allocated`` since :func:`reset_peak_memory`; on the
    CPU, the process's peak resident set size so far (``getrusage`` ``ru_maxrss``), which
    covers every run before this one in the same process too.
    """
    if cuda:
        return torch.cuda.max_memory_allocated() / 2**20, "torch.cuda.max_memory_allocated"
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes
    mib = rss / 2**20 if sys.platform == "darwin" else rss / 2**10
    return mib, "process peak RSS (ru_maxrss)"


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[int]:
    """Run the block with ``threads`` torch CPU threads (``None``: unchanged); restore after.

    Yields the number of threads in use.

    Examples
    --------
    >>> before = torch.get_num_threads()
    >>> with torch_threads(1) as n:
    ...     n
    1
    >>> torch.get_num_threads() == before
    True
    """
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
