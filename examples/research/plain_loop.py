"""Quick design search for CircuitNet on the validation split, in a plain training loop.

This is the script behind the validation evidence in ``docs/architecture.md`` ("Design
choices of 0.2"). It trains the real Lightning module of ``CircuitNetModel`` (reversible
instance normalisation included) outside darts' training loop, which makes a run several
times cheaper on a CPU: Adam with the model's recipe (lr halved after every epoch), batches
of 32 windows, every training window of the standard split, early stopping on the
validation MSE (patience 3). It prints one JSON line per epoch on stderr and one summary
line on stdout: the best validation MSE, its epoch and the test MSE of that epoch (reported,
never used to choose). The benchmark numbers come from ``cnforecast bench``, not from here.

    CNFORECAST_DATA=../shared/datasets python examples/research/plain_loop.py \\
        --dataset ETTh1 --horizon 720 --kwargs '{"readout_rank": 64}'

``--linear-only`` trains the linear path alone (the model's RINorm and its window-to-horizon
map: RLinear), the reference the circuit has to improve on. The module is built outside
``fit``, so it has no learned cycle (``cycle_length="auto"`` is resolved at ``fit``) and no
least-squares start of the linear path (0.5's, run by Lightning's ``on_train_start``): it is
the 0.2 model, without the cycle of 0.3 and 0.4. ``--kwargs '{"readout_init": "random"}'``
starts the read-out's last map randomly instead of at zero.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

import numpy as np
import torch
from darts.utils.data.torch_datasets.utils import PLModuleInput, TorchTrainingSample

from cnforecast import CircuitNetModel
from cnforecast.datasets import standard_split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="ETTh1")
    parser.add_argument("--lookback", type=int, default=96)
    parser.add_argument("--horizon", type=int, default=96)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--gamma", type=float, default=0.5, help="lr factor after each epoch")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--kwargs", default="{}", help="CircuitNetModel keywords, as JSON")
    parser.add_argument("--linear-only", action="store_true")
    parser.add_argument("--tag", default="")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    lookback, horizon = args.lookback, args.horizon
    split = standard_split(args.dataset, lookback=lookback)
    kwargs = json.loads(args.kwargs)
    model = CircuitNetModel(lookback, horizon, random_state=args.seed, **kwargs)
    n_targets = split.train.n_components
    sample = TorchTrainingSample(
        past_target=np.zeros((lookback, n_targets), np.float32),
        future_target=np.zeros((horizon, n_targets), np.float32),
    )
    model.pl_module_params["train_sample_shape"] = sample.sample_shapes()
    module = model._create_model(sample)

    def windows(part: str) -> torch.Tensor:
        values = torch.from_numpy(split.part(part).values(copy=False).astype(np.float32))
        # (T, C) -> (n, C, L + H) -> (n, L + H, C)
        return values.unfold(0, lookback + horizon, 1).permute(0, 2, 1).contiguous()

    data = {part: windows(part) for part in ("train", "val", "test")}

    def forecast(x: torch.Tensor) -> torch.Tensor:
        if args.linear_only:  # RINorm + the linear path: (B, L, C) -> (B, H, C)
            normed = module.rin(x.clone())
            out = module.skip(normed.transpose(1, 2)).transpose(1, 2)
            return module.rin.inverse(out.unsqueeze(-1))[..., 0]
        return module(PLModuleInput(past_target=x)).prediction[..., 0]

    def mse(part: str) -> float:
        module.eval()
        total, count = 0.0, 0
        with torch.no_grad():
            for i in range(0, len(data[part]), 512):
                w = data[part][i : i + 512]
                error = forecast(w[:, :lookback]) - w[:, lookback:]
                total += error.square().sum().item()
                count += error.numel()
        return total / count

    params = (
        [*module.skip.parameters(), *module.rin.parameters()]
        if args.linear_only
        else list(module.parameters())
    )
    optimizer = torch.optim.Adam(params, lr=args.lr)
    schedule = torch.optim.lr_scheduler.ExponentialLR(optimizer, args.gamma)
    best, best_epoch, test_at_best, history, waited = math.inf, -1, math.nan, [], 0
    start = time.time()
    for epoch in range(args.epochs):
        module.train()
        order = torch.randperm(len(data["train"]))
        for i in range(0, len(order), args.batch_size):
            w = data["train"][order[i : i + args.batch_size]]
            loss = (forecast(w[:, :lookback]) - w[:, lookback:]).square().mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        schedule.step()
        val = mse("val")
        history.append(round(val, 4))
        print(json.dumps({"tag": args.tag, "epoch": epoch, "val": round(val, 4)}), file=sys.stderr)
        if val < best:
            best, best_epoch, test_at_best, waited = val, epoch, mse("test"), 0
        else:
            waited += 1
            if waited >= args.patience:
                break
    summary = {
        "tag": args.tag,
        "dataset": args.dataset,
        "horizon": horizon,
        "kwargs": kwargs,
        "linear_only": args.linear_only,
        "seed": args.seed,
        "params": sum(p.numel() for p in module.parameters()),
        "best_val_mse": round(best, 4),
        "best_epoch": best_epoch,
        "test_mse_at_best": round(test_at_best, 4),
        "val_history": history,
        "seconds": round(time.time() - start),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
