"""How much of the slow trajectory the LF head learns, under one training setting.

Trains the dual VAE on the real development clips (the split and standardisation of
``docs/scripts/train_curves.py``: every fifth clip validates) and prints, for the training
and the validation windows, the LF head's *dynamics* error and amplitude: its output and
the low-pass target about each window's own mean, so that a head which outputs only the
window's mean shape scores error 1 and amplitude 0. Also the epochs run (early stopping)
and the LF latent's validation KL.

Usage (one torch thread, as in docs/model.md)::

    python benchmarks/bench_lf_head.py                      # package defaults
    python benchmarks/bench_lf_head.py --kl-lf 1            # a weaker LF bottleneck
    python benchmarks/bench_lf_head.py --max-epochs 120     # longer cosine schedule
"""

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs" / "scripts"))
from train_curves import development_windows, lf_dynamics

from lipanomaly.nn import LOSS_WEIGHTS_DEFAULT, reconstruct, train_dual_vae


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--max-epochs", type=int, default=60)
    parser.add_argument("--patience", type=int, default=10)
    parser.add_argument("--kl-lf", type=float, default=LOSS_WEIGHTS_DEFAULT["kl_lf"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    d = development_windows(args.data)
    t0 = time.perf_counter()
    net = train_dual_vae(
        d["train"],
        d["valid"],
        max_epochs=args.max_epochs,
        patience=args.patience,
        loss_weights={"kl_lf": args.kl_lf},
        random_state=args.seed,
    )
    valid_loss = np.asarray(net.history[:, "valid_loss"])
    result = {
        "machine": f"{platform.node()} {platform.machine()}, torch {torch.__version__}",
        "threads": args.threads,
        "max_epochs": args.max_epochs,
        "kl_lf": args.kl_lf,
        "epochs_run": len(valid_loss),
        "best_epoch": int(np.argmin(valid_loss)) + 1,
        "wall_s": round(time.perf_counter() - t0),
        "valid_kl_lf_nats": round(float(net.history[-1, "valid_kl_lf"]), 1),
    }
    for split in ("train", "valid"):
        err, amp = lf_dynamics(reconstruct(net, d[split]))
        result[f"{split}_lf_dynamics_error"] = round(err, 3)
        result[f"{split}_lf_dynamics_amplitude"] = round(amp, 3)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
