"""The run engine: one way to train, evaluate and record, under the benchmark and the jobs.

- :mod:`~cnforecast.engine.training`: Lightning settings built once, an epoch timer,
  ``fit`` with statistics, the parameter count;
- :mod:`~cnforecast.engine.evaluation`: every rolling forecast, the benchmark's test
  protocol, window counts;
- :mod:`~cnforecast.engine.metrics`: one metric set (MSE, MAE, MAPE; a streaming
  accumulator for long test sets);
- :mod:`~cnforecast.engine.devices`: device description, peak memory, torch threads;
- :mod:`~cnforecast.engine.grid`: one grid runner (skip, fail, go on, threads);
- :mod:`~cnforecast.engine.provenance`: versions, git, JSON values, SHA-256, atomic files
  and folders.

The engine works on any darts torch model and imports no model of cnforecast; this
``__init__`` imports nothing, so that light modules (:mod:`~cnforecast.engine.provenance`)
load without torch. Import the submodules.
"""
