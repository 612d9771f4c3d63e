"""The food world: density kept, particles never adjacent, the view and a scripted agent's score."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sleepjax.foraging.environment import (
    HORIZONTAL,
    MOVES,
    NEGATIVE_DIAGONAL,
    NOTHING,
    VERTICAL,
    World,
    WorldConfig,
    observe,
    occupancy,
    pixels,
    reset,
    step,
)

CONFIG = WorldConfig()
ALL = jnp.ones(4, bool)
TASK1 = jnp.array([True, False, False, True])


def no_adjacent_particles(world, size=50):
    """Direct check on the grid: every pixel's 8 neighbours hold only its own particle's other pixel."""
    pix = np.asarray(pixels(world.anchors, world.kinds, size))
    owner = -np.ones((size, size), int)
    for p, (a, b) in enumerate(pix):
        for r, c in (a, b):
            if owner[r, c] != -1:
                return False
            owner[r, c] = p
    for p, (a, b) in enumerate(pix):
        for r, c in (a, b):
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    o = owner[(r + dr) % size, (c + dc) % size]
                    if o not in (-1, p):
                        return False
    return True


def test_reset_density_kinds_and_spacing():
    world = reset(jax.random.key(0), TASK1)
    grid = np.asarray(occupancy(world))
    assert (grid > 0).sum() == 250  # 10 % of 2500
    assert set(np.unique(grid[grid > 0]) - 1) == {HORIZONTAL, NEGATIVE_DIAGONAL}
    assert no_adjacent_particles(world)
    assert grid[tuple(np.asarray(world.agent))] == 0


def test_present_kinds_are_equally_common():
    """Each of a task's two kinds makes half of the particles placed (mistake caught: drawing the kind
    again with every rejected anchor favours the kinds that fit more easily, the axis-aligned ones, 51.7 %
    of the particles; both tasks reward an axis-aligned kind, so chance would score 0.52, not 0.5)."""
    worlds = jax.jit(jax.vmap(lambda k: reset(k, TASK1)))(jax.random.split(jax.random.key(2), 400))
    share = float(np.mean(np.asarray(worlds.kinds) == HORIZONTAL))
    assert abs(share - 0.5) < 0.008  # 50,000 particles: one standard error is 0.0022


def test_density_and_spacing_kept_over_many_steps():
    """400 random moves of a vmapped pair of worlds: 250 food pixels and no adjacency after every step."""
    keys = jax.random.split(jax.random.key(1), 2)
    worlds = jax.vmap(lambda k: reset(k, ALL))(keys)

    @jax.jit
    def advance(worlds, key):
        k_move, k_step = jax.random.split(key)
        moves = jax.random.randint(k_move, (2,), 0, 8)
        return jax.vmap(lambda w, m, k: step(w, m, k, ALL))(worlds, moves, jax.random.split(k_step, 2))

    eaten_total = 0
    key = jax.random.key(2)
    for _ in range(400):
        key, k = jax.random.split(key)
        worlds, eaten = advance(worlds, k)
        eaten_total += int((eaten != NOTHING).sum())
        for b in range(2):
            world = jax.tree.map(lambda a, b=b: a[b], worlds)
            assert (np.asarray(occupancy(world)) > 0).sum() == 250
            assert no_adjacent_particles(world)
    assert eaten_total > 0  # the re-placement path was exercised


def small_world():
    """A hand-made 10x10 world: a horizontal particle at (2, 3)-(2, 4), a negative diagonal one at
    (5, 5)-(6, 6), the agent at (2, 1)."""
    return World(jnp.array([[2, 3], [5, 5]], jnp.int32), jnp.array([HORIZONTAL, NEGATIVE_DIAGONAL]), jnp.array([2, 1]))


def test_observe_is_egocentric_and_wraps():
    config = WorldConfig(size=10, n_particles=2, view=7)
    view = np.asarray(observe(small_world(), config))
    # agent (2, 1) at view centre (3, 3): pixel (2, 3) -> (3, 5), (2, 4) -> (3, 6), (5, 5) -> (6, 7) outside
    expected = np.zeros((7, 7), bool)
    expected[3, 5] = expected[3, 6] = True
    np.testing.assert_array_equal(view, expected)
    # the agent at (8, 8): pixel (2, 3) is 4 rows down on the torus -> outside; (5, 5) -> (0, 0); (6, 6) -> (1, 1)
    view = np.asarray(observe(small_world()._replace(agent=jnp.array([8, 8])), config))
    assert view.sum() == 2 and view[0, 0] and view[1, 1]


def test_scripted_agent_score_by_hand():
    """From (2, 1): right to (2, 2) (empty), right to (2, 3) (eats the horizontal particle, which is
    re-placed elsewhere as vertical, the only present kind), right to (2, 4) (empty: the particle's
    second pixel went with it), down to (3, 4) and (4, 4) (empty), down-right to (5, 5) (eats the
    negative diagonal). With horizontal rewarded and negative diagonal punished the score is
    rewarded / (rewarded + punished) = 1 / (1 + 1) = 0.5."""
    config = WorldConfig(size=10, n_particles=2, view=7)
    present = jnp.zeros(4, bool).at[VERTICAL].set(True)
    world = small_world()
    right, down, down_right = 4, 6, 7
    assert MOVES[right].tolist() == [0, 1] and MOVES[down].tolist() == [1, 0] and MOVES[down_right].tolist() == [1, 1]
    eaten = []
    key = jax.random.key(3)
    for move in (right, right, right, down, down, down_right):
        key, k = jax.random.split(key)
        world, e = step(world, jnp.asarray(move), k, present, config)
        eaten.append(int(e))
    assert eaten == [NOTHING, HORIZONTAL, NOTHING, NOTHING, NOTHING, NEGATIVE_DIAGONAL]
    assert world.agent.tolist() == [5, 5]
    rewarded = sum(e == HORIZONTAL for e in eaten)
    punished = sum(e == NEGATIVE_DIAGONAL for e in eaten)
    assert rewarded / (rewarded + punished) == 0.5
    # both eaten particles were re-placed as the only present kind, away from the agent
    assert world.kinds.tolist() == [VERTICAL, VERTICAL]
    assert (np.asarray(occupancy(world, config)) > 0).sum() == 4


def test_bad_config_is_refused():
    with pytest.raises(ValueError, match="n_particles"):
        reset(jax.random.key(0), ALL, WorldConfig(n_particles=500))
    with pytest.raises(ValueError, match="view"):
        reset(jax.random.key(0), ALL, WorldConfig(view=6))
