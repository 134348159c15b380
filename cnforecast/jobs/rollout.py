"""Limits of auto-regressive roll-outs: forecasts longer than the model's horizon.

A model forecasts ``output_chunk_length`` (H) steps at a time. For ``n > H`` darts rolls it
out: each chunk is forecast from the previous chunks' forecasts, so errors compound, and an
unstable model can drift to huge values and then to ``inf``/``NaN`` (seen: values past 1e3
after 13 roll-outs of an H = 6 model, ``inf`` after 300). The jobs therefore

* forecast up to H steps without comment;
* warn for ``H < n <= MAX_ROLLOUTS * H`` (the forecast is a roll-out of ``ceil(n / H)``
  chunks);
* refuse ``n > max_rollouts * H`` before predicting, with an error that says what to do
  (``max_rollouts`` is :data:`MAX_ROLLOUTS` unless the caller passes another limit);
* refuse a forecast that came out non-finite, naming the series, the step and the roll-out
  where it happened, instead of writing empty cells.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Hashable, Sequence

import numpy as np

from cnforecast.jobs.errors import ForecastError

logger = logging.getLogger(__name__)

#: Most chunks of ``output_chunk_length`` steps one forecast may chain by default.
MAX_ROLLOUTS = 10


def n_rollouts(n: int, output_chunk_length: int) -> int:
    """How many chunks of ``output_chunk_length`` steps a forecast of ``n`` steps needs.

    Examples
    --------
    >>> n_rollouts(24, 24), n_rollouts(25, 24), n_rollouts(10000, 6)
    (1, 2, 1667)
    """
    return math.ceil(n / output_chunk_length)


def check_horizon(
    n: int,
    output_chunk_length: int,
    max_rollouts: int | None = MAX_ROLLOUTS,
    where: str = "the model",
) -> None:
    """Refuse ``n`` beyond ``max_rollouts`` chunks of the model's horizon; warn past one chunk.

    Parameters
    ----------
    n
        Forecast horizon asked for.
    output_chunk_length
        The model's horizon H.
    max_rollouts
        Most chunks allowed; ``None`` for no limit (the finiteness check still applies).
    where
        The model, for the messages (e.g. its directory).
    """
    if n < 1:
        raise ForecastError(f"the forecast horizon n must be at least 1, got {n}")
    chunks = n_rollouts(n, output_chunk_length)
    if chunks <= 1:
        return
    if max_rollouts is not None and chunks > max_rollouts:
        limit = max_rollouts * output_chunk_length
        raise ForecastError(
            f"n={n} needs {chunks} roll-outs of {where}, whose output_chunk_length is "
            f"{output_chunk_length}; at most {max_rollouts} are allowed (n <= {limit}), because "
            "each roll-out feeds on the previous forecasts and errors compound. Forecast at "
            f"most {limit} steps, train a model with a longer --output-chunk-length, or raise "
            "the limit with --max-rollouts"
        )
    logger.warning(
        "n=%d is longer than the output_chunk_length %d of %s: the forecast chains %d "
        "roll-outs, each fed with the previous forecasts, so accuracy falls with every one",
        n,
        output_chunk_length,
        where,
        chunks,
    )


def check_finite(
    values: Sequence[np.ndarray],
    ids: Sequence[Hashable | None],
    output_chunk_length: int,
    source: str = "data",
) -> None:
    """Refuse forecasts with ``inf`` or ``NaN``, naming the first series, step and roll-out.

    Parameters
    ----------
    values
        One array per series, time first: ``(time, components[, samples])`` (or one array
        with the series first).
    ids
        The series ids (``None`` for a table without id column).
    output_chunk_length
        The model's horizon, to say in which roll-out the forecast broke.
    source
        The input, for the message.
    """
    if isinstance(values, np.ndarray) and np.isfinite(values).all():
        return  # one array for every series: one check (the loop below names the culprit)
    for key, array in zip(ids, values):
        array = np.asarray(array)
        finite = np.isfinite(array.reshape(len(array), -1)).all(axis=1)
        if finite.all():
            continue
        step = int(np.flatnonzero(~finite)[0]) + 1
        chunk = n_rollouts(step, output_chunk_length)
        where = f", series {key!r}" if key is not None else ""
        raise ForecastError(
            f"{source}{where}: the forecast is not finite (inf or NaN) from step {step} on, in "
            f"roll-out {chunk} of {output_chunk_length} steps: the roll-out diverged. Forecast "
            f"fewer steps (at most {(chunk - 1) * output_chunk_length or output_chunk_length}"
            ") or train a model with a longer --output-chunk-length"
        )
