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
    python benchmarks/bench_lf_head.py --lf-terms-only      # only L_rec_LF and KL_LF train
    python benchmarks/bench_lf_head.py --pca                # linear 32-number references

Other settings: ``--lr``, ``--dropout``, ``--weight-decay``, ``--no-augment``, ``--patience``,
``--max-grad-norm`` (0: no clipping), ``--device cuda``.
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
from train_curves import development_windows, lf_dynamics, pca_code

from lipanomaly.nn import LOSS_WEIGHTS_DEFAULT, MAX_GRAD_NORM, reconstruct, train_dual_vae
from lipanomaly.signal.filters import lowpass


def pca_reference(d, k=32, noise_var=3.0):
    """The same measure for linear codes of ``k`` numbers fitted to the training windows.

    PCA, and probabilistic PCA with decoder variance ``noise_var`` (beta_LF = 6 on a
    per-value mean squared error is a decoder variance of 3).
    """
    lp = {s: lowpass(d[s].astype(np.float64), axis=1) for s in ("train", "valid")}
    out = {}
    for name, var in (("pca", 0.0), ("ppca", noise_var)):
        code = pca_code(lp["train"], k, noise_var=var)
        for split, x in lp.items():
            error = lf_dynamics({"x_lf": code(x), "x_lp": x})[0]
            out[f"{name}{k}_{split}_lf_dynamics_error"] = round(error, 3)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--max-epochs", type=int, default=60)
    parser.add_argument("--patience", type=int, default=10)
    parser.add_argument("--kl-lf", type=float, default=LOSS_WEIGHTS_DEFAULT["kl_lf"])
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--weight-decay", type=float, default=0.01)  # AdamW's default
    parser.add_argument("--no-augment", action="store_true")
    parser.add_argument("--lf-terms-only", action="store_true")
    parser.add_argument("--max-grad-norm", type=float, default=MAX_GRAD_NORM)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pca", action="store_true", help="only the linear references")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    weights = {"kl_lf": args.kl_lf}
    if args.lf_terms_only:
        weights |= {k: 0.0 for k in LOSS_WEIGHTS_DEFAULT if k not in ("rec_lf", "kl_lf")}

    d = development_windows(args.data)
    if args.pca:
        print(json.dumps(pca_reference(d), indent=1))
        return
    t0 = time.perf_counter()
    net = train_dual_vae(
        d["train"],
        d["valid"],
        max_epochs=args.max_epochs,
        patience=args.patience,
        lr=args.lr,
        augment=not args.no_augment,
        loss_weights=weights,
        module_kwargs={"dropout": args.dropout},
        optimizer__weight_decay=args.weight_decay,
        callbacks__grad_clip__gradient_clip_value=args.max_grad_norm or None,
        device=args.device,
        random_state=args.seed,
    )
    valid_loss = np.asarray(net.history[:, "valid_loss"])
    result = {
        "machine": f"{platform.node()} {platform.machine()}, torch {torch.__version__}",
        "threads": args.threads,
        "device": args.device,
        "settings": {k: v for k, v in vars(args).items() if k not in ("data", "threads")},
        "epochs_run": len(valid_loss),
        "best_epoch": int(np.argmin(valid_loss)) + 1,
        "wall_s": round(time.perf_counter() - t0),
        "valid_kl_lf_nats": round(float(net.history[-1, "valid_kl_lf"]), 1),
    }
    for split in ("train", "valid"):
        err, amp = lf_dynamics(reconstruct(net, d[split], device=args.device))
        result[f"{split}_lf_dynamics_error"] = round(err, 3)
        result[f"{split}_lf_dynamics_amplitude"] = round(amp, 3)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
