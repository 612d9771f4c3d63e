"""Where a vmapped SRC sleep spends its time on this backend: the XLA operations with most time.

Runs ``--seeds`` vmapped sleeps of a 784-1200-1200-10 network with random weights in the range SRC
sees, under ``jax.profiler``, and prints the operations that took longest per step. Thresholds are set
so high that hidden layers stay silent, which isolates the cost of the forward pass from plasticity.

    python benchmarks/profile_vmapped_sleep.py --seeds 4
"""

from __future__ import annotations

import argparse
import collections
import glob
import gzip
import json
import tempfile

import jax
import jax.numpy as jnp
import numpy as np

from sleepjax._sleep import MNIST_WINDOW, SRCHparams, src_sleep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=4, help="vmapped seeds; 0 profiles one unbatched sleep")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--method", choices=("event", "dense"), default="event")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    shapes = [(1200, 784), (1200, 1200), (10, 1200)]
    weights = [jnp.asarray(rng.uniform(-0.01, 0.012, s), jnp.float32) for s in shapes]
    mean_input = jnp.asarray(rng.random(784) * 0.3, jnp.float32)
    hp = SRCHparams.create(200.0, 0.03, 0.003, (1e9, 1e9, 1e9), 50.0)

    def one(key):
        return src_sleep(weights, mean_input, jnp.ones(3), hp, key, args.steps, MNIST_WINDOW, method=args.method)

    if args.seeds:
        fn, keys = jax.jit(jax.vmap(one)), jax.random.split(jax.random.key(0), args.seeds)
    else:
        fn, keys = jax.jit(one), jax.random.key(0)
    jax.block_until_ready(fn(keys))
    with tempfile.TemporaryDirectory() as trace_dir:
        jax.profiler.start_trace(trace_dir)
        jax.block_until_ready(fn(keys))
        jax.profiler.stop_trace()
        (path,) = glob.glob(f"{trace_dir}/**/*.trace.json.gz", recursive=True)
        events = json.load(gzip.open(path))["traceEvents"]

    total = collections.Counter()
    for event in events:
        if event.get("ph") == "X" and not event["name"].startswith(("ThunkExecutor", "$")):
            total[event["name"]] += event.get("dur", 0)
    print(
        f"{args.seeds or 'one unbatched'} seed(s), {args.steps} {args.method} steps on {jax.default_backend()}; "
        "time per step of the slowest operations:"
    )
    for name, micros in total.most_common(6):
        print(f"  {micros / args.steps:8.1f} us  {name}")


if __name__ == "__main__":
    main()
