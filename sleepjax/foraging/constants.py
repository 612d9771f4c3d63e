"""The foraging agent's numeric constants (:class:`Hparams`) and their allowed ranges.

The paper's values where it gives them; calibrated choices where it leaves them open (OPEN); and, for
every default that was changed to follow the sources, the name and value that bring back the form used
before (the committed records state those values in their identity). They are floats, so whole runs
vmap over them.
"""

from __future__ import annotations

from typing import NamedTuple

from sleepjax._ranges import NON_NEGATIVE, POSITIVE, UNIT, Range, check_ranges


class Hparams(NamedTuple):
    """Numeric constants; the paper's values where it gives them, calibrated choices where OPEN."""

    # synapses (OPEN): decay per step, couplings, reversal potentials, release variability (paper: R);
    # g_inh 2.6 against g_exc 2: outputs fire sparsely, 0-2 of the 8 for most views, so that a reward
    # credits few outputs besides the one whose spike chose the move (2.4: ~3 fire; 2.8: ~70 % of views
    # none, and the move is then the last one)
    gamma_exc: float = 0.9
    gamma_inh: float = 0.9
    g_in: float = 1.0
    g_exc: float = 2.0
    g_inh: float = 2.6
    e_exc: float = 0.0
    e_inh: float = -1.5
    release: float = 0.12
    # 1: release variability drawn per synaptic event (:func:`release_draws`); 0: one draw per
    # hidden->output synapse per cycle (the form before)
    release_per_event: float = 1.0
    # weights (OPEN): summed input->hidden weight of a hidden neuron and the cap of one such weight
    # (below the one-pulse threshold, ~0.067 at gamma_exc 0.9, so a hidden neuron needs two coincident
    # inputs: it detects pairs of pixels, which is what tells orientations apart), summed
    # hidden->output weight of an output neuron at the start, weight of one sleep-drive spike.
    # in_total 0.3 (0.033 per synapse on average): two average inputs are just at threshold, so after
    # the unsupervised STDP mostly the pairs of pixels that come together (one particle) fire a hidden
    # neuron; ~90 hidden spikes per view instead of ~130 at 0.45, fewer of them from pixels of two
    # different particles, which carry no orientation
    in_total: float = 0.3
    w_in_max: float = 0.055
    # factor on the input->hidden plain-STDP step (1: K = 0.04 per pair, about the mean input weight;
    # smaller for a slower unsupervised period)
    in_gain: float = 1.0
    out_total: float = 20.0
    # initial hidden->output weights are u ** init_power, u uniform in [0, 1], scaled to out_total per
    # output: 0 makes them all equal (the paper's uniform initial strengths; the outputs then differ
    # only by the release variability and the ties' draws), 1 uniformly random (the form before), > 1
    # heavy-tailed
    init_power: float = 0.0
    # with wired detectors w_sleep 0.5 (sparser sleep) kept more of Task 1 through sleep (README, "Task 2
    # learning and sleep with wired detectors")
    w_sleep: float = 1.0
    # rewarded STDP (paper), its activity normalisation (OPEN: running-average rate) and learn_gain
    # (OPEN), a factor on S meant to let 10^3-10^4 training cycles do what the paper's 5 x 10^6 do (it
    # does not yet: the agent stays near chance, see the README): at 10 the one-step policy probe
    # (experiments/foraging_calibration.py) levels off within ~1500 cycles; at 30 a few outputs take
    # most views over and the scores swing from probe to probe. s_sleep is the paper's +0.5; with wired
    # detectors 0.1 did better on the calibration trials: at 0.5 a 100-cycle sleep block moves the weights
    # with 10-25x the summed S of the 2-5 rewards of a Task 2 block (README, "A weaker sleep update")
    s_reward: float = 1.0
    s_punish: float = -0.001
    s_empty: float = -0.0001
    s_sleep: float = 0.5
    delay_c: float = 1.0
    # 1: the update's delay t - t_k + c in timesteps, as the paper's "t is the current timestep" (a
    # cycle's trace dated at its first step, the reward at the end of the current cycle, c = delay_c
    # cycles of steps: (k + 1 + c) x steps); 0: in cycles, k + c, the form used before (about 1200
    # times the step at 600 steps per cycle; :func:`~sleepjax.spiking.eligibility.delays`)
    discount_steps: float = 1.0
    learn_gain: float = 10.0
    norm_rate: float = 0.01
    # 1: the update is divided by the activity normalisation A (the published paper's; OPEN form: the
    # running average at norm_rate of the summed absolute trace per cycle); 0: not divided (A = 1), as
    # the preprint's update, which mentions no normalisation
    activity_norm: float = 1.0
    # homeostasis (OPEN): output goal rate (Hz) and target adaptation speed; hidden-rate averaging (the
    # sleep drive; 0.01 averages ~100 learning cycles, one block; with wired detectors 1e-4, the mean over
    # Task 1 training, so that interleaved sleep still replays Task 1's detectors; 0 is the plain mean
    # over every learning cycle, each task weighed by its training time: tried, no better than 1e-4)
    goal_rate: float = 10.0
    eta_target: float = 0.0
    rate_avg: float = 0.01
    # 1: the sleep drive is each hidden neuron's mean awake rate during each task trained so far,
    # averaged over those tasks with equal weights (the paper's; the unsupervised period's mean before
    # any task); 0: the running average at rate_avg over every learning cycle (the form before)
    task_drive: float = 1.0
    # exploration (paper)
    explore_base: float = 0.01
    explore_step: float = 0.01
    # spontaneous synaptic noise on the output neurons (OPEN; 0: none): awake only, each output receives
    # Poisson excitatory events at noise_rate (Hz), each adding w_noise to its excitatory conductance, so
    # that an output sometimes fires without input and the reward can credit a move no output chose yet
    # (trial and error; Sanda, Skorheim & Bazhenov 2017). Asleep the outputs are driven by the replayed
    # hidden activity alone. With wired detectors 100 Hz of 0.02 is what lets Task 2 learning start: after
    # Task 1 its detectors carry ~0 of every output's input, and only a spontaneous output spike gives a
    # rewarded pairing to credit.
    noise_rate: float = 0.0
    w_noise: float = 0.0
    # wired particle detectors instead of the learned input code (NOT the paper's network; 0: the paper's
    # plain STDP code): every hidden neuron is wired, at this weight per pixel, to the two pixels of one
    # particle position of the view (:func:`wired_detectors`) and its input weights never change. The
    # calibration showed that plain STDP on this world gives no orientation detectors (a particle's two
    # pixels come together only ~1.25x as often as two unrelated pixels) and that the rewarded rule
    # needs them; this option isolates the hidden->output learning and sleep from that gap.
    wired: float = 0.0
    # 1: every wired neuron is also wired to a second particle position, of a kind of the other task,
    # at the same weight, so that it fires in both tasks and no detector is silent in either (NOT the
    # paper's network; 0: one position per neuron)
    wired_mixed: float = 0.0
    # lower bound on every hidden->output weight after the rewarded update, before the rescaling, as a
    # fraction of the mean initial weight out_total / n_hidden (NOT in the paper; 0: none). Without it a
    # detector that is silent in a task drains geometrically (every rescaling after a reward takes the
    # same fraction from it) until its weights are 0 in float32, and a multiplicative update never
    # revives a 0 (README, "Three times longer phases"); a bound keeps every detector learnable.
    w_floor: float = 0.0
    # exponent p of the factor W_i0 / W_i in the sleep update, (W_i0 / W_i) ** p (1: the paper's "same
    # rule" asleep; 0: no factor asleep, NOT the paper's rule). A diagnostic: asleep S acts every cycle,
    # and the factor then pulls every detector's summed output towards its start, Task 1's rewarded
    # detectors down and the punished kinds' up (README, "What the factor W_i0 / W_i does asleep").
    sleep_ratio: float = 1.0
    # 1: the eligibility store is carried across a switch between wake and sleep, so the last wake
    # traces receive sleep's S and the last sleep traces the next reward (the form before); 0: emptied
    # at every such switch, each phase crediting its own traces
    keep_store: float = 0.0
    # factor on the sleep drive's Poisson rates (1: each hidden neuron at its mean awake rate, the
    # paper's drive; NOT the paper's otherwise). With wired detectors the awake rates are low: the drive
    # brings ~5 spikes per 100 ms cycle to the whole hidden layer, so a sleep cycle holds a few spike
    # pairs and the normalised update falls on them; 10 gives ~50, the same replay pattern with ten
    # times the pairs (README, "A denser sleep and its own activity normalisation").
    sleep_gain: float = 1.0
    # 1 (any value above 0): sleep's updates are divided by a running average of sleep's own summed
    # trace (``Agent.sleep_norm``, started at its first cycle's value) and wake's by wake's; 0 (default):
    # one average over both. With one average, a sleep denser than wake raises it, and the next wake
    # block's rewards are divided by sleep's activity (OPEN: the paper's normalisation form is not given).
    own_sleep_norm: float = 0.0


#: Allowed range of each constant of :class:`Hparams`; a constant not listed only has to be finite.
HPARAM_RANGES = {
    "gamma_exc": UNIT,  # a conductance kept per step
    "gamma_inh": UNIT,
    "release": UNIT,  # efficacy 1 + R xi must stay non-negative
    "release_per_event": UNIT,
    "in_total": POSITIVE,
    "w_in_max": POSITIVE,
    "in_gain": NON_NEGATIVE,
    "out_total": POSITIVE,
    "init_power": NON_NEGATIVE,
    "w_sleep": NON_NEGATIVE,
    "g_in": NON_NEGATIVE,
    "g_exc": NON_NEGATIVE,
    "g_inh": NON_NEGATIVE,
    "delay_c": POSITIVE,
    "discount_steps": UNIT,
    "learn_gain": NON_NEGATIVE,
    "norm_rate": Range(0.0, 1.0, open_low=True),
    "activity_norm": UNIT,
    "rate_avg": UNIT,  # 0: the mean over every learning cycle so far
    "task_drive": UNIT,
    "goal_rate": NON_NEGATIVE,
    "eta_target": NON_NEGATIVE,
    "explore_base": UNIT,
    "explore_step": UNIT,
    "noise_rate": NON_NEGATIVE,
    "w_noise": NON_NEGATIVE,
    "wired": NON_NEGATIVE,
    "wired_mixed": UNIT,
    "w_floor": UNIT,
    "sleep_ratio": UNIT,
    "keep_store": UNIT,
    "sleep_gain": POSITIVE,
    "own_sleep_norm": UNIT,
}


def check_hparams(hp: Hparams) -> None:
    """``ValueError`` naming the first constant that is not finite or out of its range
    (:data:`HPARAM_RANGES`): a NaN or a negative rate would otherwise run the whole table to a silent
    wrong result."""
    check_ranges(hp._asdict(), HPARAM_RANGES, lambda name: f"foraging hyperparameter {name}")
