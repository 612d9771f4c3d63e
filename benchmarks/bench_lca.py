"""Neuron-steps per second of the spiking LCA's sleep, for 1 and for 64 vmapped sleep settings.

A neuron-step is one LIF neuron advanced by one time step (with the residual, the drive and the
Hebbian update of its feature). The same compiled sleep runs once to compile and warm up, then is
timed over ``--repeats`` calls; the ratio of the two rates is the gain of vmapping settings.

    python benchmarks/bench_lca.py [--neurons 128] [--dim 64] [--steps 2000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp

from sleepjax.app.lca import Config
from sleepjax.lca.model import NeuronConfig
from sleepjax.lca.sleep import NoiseSleepHparams, noise_sleep


def settings(count: int) -> NoiseSleepHparams:
    """``count`` sinusoidal settings spread over frequency and level."""
    f = jnp.linspace(0.5, 32.0, count, dtype=jnp.float32)
    level = jnp.linspace(1.0, 16.0, count, dtype=jnp.float32)[::-1]
    return NoiseSleepHparams(f, level, level, jnp.full(count, 1e9, jnp.float32), jnp.ones(count, jnp.float32))


def rate(count: int, phi: jax.Array, cfg: NeuronConfig, steps: int, repeats: int) -> float:
    fn = jax.jit(jax.vmap(lambda hp: noise_sleep(phi, hp, cfg, jax.random.key(0), steps, Config().rule)))
    hp = settings(count)
    jax.block_until_ready(fn(hp))
    start = time.perf_counter()
    for _ in range(repeats):
        jax.block_until_ready(fn(hp))
    seconds = (time.perf_counter() - start) / repeats
    return count * steps * phi.shape[1] / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=Config().num_neurons)
    parser.add_argument("--dim", type=int, default=Config().patch_size ** 2)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cfg = Config().neuron()
    phi = jax.random.normal(jax.random.key(1), (args.dim, args.neurons), jnp.float32) / jnp.sqrt(args.dim)
    print(f"backend {jax.default_backend()}, {args.neurons} neurons, {args.dim}-D input, {args.steps} steps")
    one = rate(1, phi, cfg, args.steps, args.repeats)
    many = rate(64, phi, cfg, args.steps, args.repeats)
    print(f" 1 setting : {one:.3g} neuron-steps/s")
    print(f"64 settings: {many:.3g} neuron-steps/s (x{many / one:.1f})")


if __name__ == "__main__":
    main()
