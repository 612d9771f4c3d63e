"""The food world of the foraging agent as a pure JAX environment (fixed shapes, jit/vmap-able).

A ``size x size`` toroidal grid (wrap-around: the paper leaves it open; a torus has no edges for the
agent to get stuck on) holds ``n_particles`` food particles, each two pixels long in one of four
orientations (:data:`KINDS`). No two particles are adjacent: every pixel of one particle is at
Chebyshev distance >= 2 from every pixel of every other. When the agent steps onto a pixel of a
particle it eats it, and that particle is re-placed at random (kind drawn again among the task's
present kinds), so the density stays constant. The default ``n_particles = 125`` covers 250 of 2500
pixels: 10 %.

The agent sees a 7x7 egocentric window (:func:`observe`, its own cell in the centre) and moves to one
of its 8 neighbours (:data:`MOVES`, row-major order of the 3x3 grid without its centre).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

#: Particle kinds and the offset (row, column) of each kind's second pixel from its first.
HORIZONTAL, VERTICAL, POSITIVE_DIAGONAL, NEGATIVE_DIAGONAL = 0, 1, 2, 3
KINDS = ("horizontal", "vertical", "positive diagonal", "negative diagonal")
OFFSETS = np.array([[0, 1], [1, 0], [-1, 1], [1, 1]], np.int32)

#: The 8 moves (row, column), in the order of the output neurons (3x3 grid, row-major, no centre).
MOVES = np.array([[-1, -1], [-1, 0], [-1, 1], [0, -1], [0, 1], [1, -1], [1, 0], [1, 1]], np.int32)

#: ``eaten`` value of a step that found no food.
NOTHING = -1


class WorldConfig(NamedTuple):
    """Static world settings: grid side, number of particles, side of the (odd) egocentric view."""

    size: int = 50
    n_particles: int = 125
    view: int = 7

    def check(self) -> None:
        if self.view % 2 != 1 or self.view > self.size:
            raise ValueError(f"WorldConfig.view must be odd and at most size, got view={self.view}")
        # random sequential placement needs free room: each particle blocks at most 4 x 5 = 20 anchors
        limit = self.size * self.size // 20
        if not 1 <= self.n_particles <= limit:
            raise ValueError(
                f"WorldConfig.n_particles={self.n_particles} must be in [1, {limit}] on a {self.size}x{self.size} grid"
            )


#: The paper's world: 50x50, 125 particles (10 % of the pixels), 7x7 view.
DEFAULT_WORLD = WorldConfig()


class World(NamedTuple):
    """``anchors (P, 2)`` first pixel of each particle, ``kinds (P,)``, ``agent (2,)`` position."""

    anchors: jax.Array
    kinds: jax.Array
    agent: jax.Array


def pixels(anchors: jax.Array, kinds: jax.Array, size: int) -> jax.Array:
    """``(P, 2, 2)``: both pixels (row, column) of every particle, wrapped onto the torus."""
    return jnp.stack([anchors, anchors + jnp.asarray(OFFSETS)[kinds]], axis=1) % size


def _torus_distance(a: jax.Array, b: jax.Array, size: int) -> jax.Array:
    """Chebyshev distance on the torus between points ``a (..., 2)`` and ``b (..., 2)``."""
    d = jnp.abs(a - b) % size
    return jnp.max(jnp.minimum(d, size - d), axis=-1)


def _fits(anchor, kind, anchors, kinds, others, agent, size):
    """Whether a particle ``(anchor, kind)`` keeps distance >= 2 from every particle in ``others``
    (mask ``(P,)``) and has no pixel on the agent."""
    new = pixels(anchor[None], kind[None], size)[0]  # (2, 2)
    old = pixels(anchors, kinds, size)  # (P, 2, 2)
    dist = _torus_distance(new[None, :, None, :], old[:, None, :, :], size)  # (P, 2, 2)
    clear = jnp.all(jnp.where(others[:, None, None], dist >= 2, True))
    return clear & jnp.all(_torus_distance(new, agent[None], size) > 0)


def _kind_probabilities(present: jax.Array) -> jax.Array:
    p = present.astype(jnp.result_type(float))
    return p / jnp.sum(p)


def _place(key, world: World, index, others, present, size, needed=True) -> World:
    """Re-place particle ``index``: its kind drawn once, uniform among the ``present`` kinds, then its
    anchor drawn again until it fits among ``others``; nothing if not ``needed``.

    The kind is not drawn again with every anchor: that would favour the kinds that fit more easily (a
    diagonal particle keeps more cells clear than an axis-aligned one), 51.7 % axis-aligned particles
    instead of 50 %, and both tasks reward an axis-aligned kind, so chance would score 0.52, not 0.5.
    """
    k_kind, key = jax.random.split(key)
    drawn = jax.random.choice(k_kind, 4, p=_kind_probabilities(present)).astype(jnp.int32)
    kind = jnp.where(needed, drawn, world.kinds[index])

    def cond(carry):
        _, _, done = carry
        return ~done

    def body(carry):
        key, _, _ = carry
        key, k = jax.random.split(key)
        anchor = jax.random.randint(k, (2,), 0, size, jnp.int32)
        return key, anchor, _fits(anchor, kind, world.anchors, world.kinds, others, world.agent, size)

    start = (key, world.anchors[index], jnp.logical_not(needed))
    _, anchor, _ = lax.while_loop(cond, body, start)
    return world._replace(anchors=world.anchors.at[index].set(anchor), kinds=world.kinds.at[index].set(kind))


def reset(key: jax.Array, present: jax.Array, config: WorldConfig = DEFAULT_WORLD) -> World:
    """A fresh world: the agent at a random cell, particles placed one by one at random positions
    where they fit, kinds uniform among ``present (4,) bool``."""
    config.check()
    k_agent, k_particles = jax.random.split(key)
    p = config.n_particles
    world = World(
        jnp.zeros((p, 2), jnp.int32), jnp.zeros((p,), jnp.int32), jax.random.randint(k_agent, (2,), 0, config.size)
    )

    def body(world, inputs):
        index, key = inputs
        return _place(key, world, index, jnp.arange(p) < index, present, config.size), None

    world, _ = lax.scan(body, world, (jnp.arange(p), jax.random.split(k_particles, p)))
    return world


def step(
    world: World, move: jax.Array, key: jax.Array, present: jax.Array, config: WorldConfig = DEFAULT_WORLD
) -> tuple[World, jax.Array]:
    """Move the agent by ``MOVES[move]``; returns the new world and the kind eaten (:data:`NOTHING` if none).

    An eaten particle is re-placed at random among the others (away from the agent's new cell).
    """
    agent = (world.agent + jnp.asarray(MOVES)[move]) % config.size
    world = world._replace(agent=agent)
    on_agent = pixels(world.anchors, world.kinds, config.size) == agent[None, None]  # (P, 2, 2)
    hit = jnp.any(jnp.all(on_agent, axis=-1), axis=-1)  # (P,)
    ate = jnp.any(hit)
    index = jnp.argmax(hit)
    eaten = jnp.where(ate, world.kinds[index], NOTHING)
    others = jnp.arange(config.n_particles) != index
    return _place(key, world, index, others, present, config.size, needed=ate), eaten


def observe(world: World, config: WorldConfig = DEFAULT_WORLD) -> jax.Array:
    """The ``(view, view)`` boolean egocentric window: True where a food pixel lies, agent at the centre."""
    half = config.view // 2
    rel = pixels(world.anchors, world.kinds, config.size).reshape(-1, 2) - world.agent[None]
    rel = (rel + config.size // 2) % config.size - config.size // 2  # in [-size/2, size/2)
    inside = jnp.all(jnp.abs(rel) <= half, axis=-1)
    flat = jnp.where(inside, (rel[:, 0] + half) * config.view + rel[:, 1] + half, config.view**2)
    grid = jnp.zeros(config.view**2 + 1, bool).at[flat].set(True)
    return grid[:-1].reshape(config.view, config.view)


def occupancy(world: World, config: WorldConfig = DEFAULT_WORLD) -> jax.Array:
    """``(size, size)`` int grid: 0 empty, ``1 + kind`` on a particle's pixel (for tests and plots)."""
    pix = pixels(world.anchors, world.kinds, config.size).reshape(-1, 2)
    values = jnp.repeat(world.kinds + 1, 2)
    return jnp.zeros((config.size, config.size), jnp.int32).at[pix[:, 0], pix[:, 1]].set(values)
