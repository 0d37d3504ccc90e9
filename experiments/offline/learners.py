"""The function classes of the offline pipeline (issue 13, the equivalence control): what the
Q-function and the model are, `offline.learner`:

- `network`: today's ELU MLPs (Q and the simple model's three networks of `offline.hidden`).
- `linear`: Q linear in the observation bits (a weight per bit and action, and a bias per
  action); the model linear per action in the bits (Parr 2008's F_a and r_a): each of its
  outputs (reward, continuation logit, next-bit logits) is w_a . [obs, 1] for action a. All
  weights start at 0.
- `tabular`: one row per state of the world, (agent cell, wall layout) for the 10 layouts
  (8 one-wall, E1, E2) x 9 cells, and one shared row for any other bit pattern (a model
  can sample one; nothing is ever learned there); Q is a table of state x action and the
  model a table of (state, action) -> (reward, continuation logit, next-bit logits). Q
  starts at 0. A table row of the model that the data never
  visits gets no gradient and stays at its initialization, which is the empirical model's
  empty row: reward 0 and no successor (continuation logit -20, so sigmoid ~ 2e-9, and a
  rollout's weight after it ~ 0). Q-learning on that model then leaves Q(s, a) of an
  unvisited pair at 0, exactly where replay leaves it (it never updates that entry): the
  tabular certainty-equivalence model (Parr 2008) has nothing to say there, and neither does
  the data. GPS bits are a function of the state, so a table ignores them; distractor bits
  are not, so `tabular` refuses them (a table over 2^D copies of each state).

Every class trains with the same losses, the same Adam and the same batches; only the step
sizes differ (configs/experiment/fig1.yaml `learners`: tables need larger steps to converge
in the budget, and the run's history tables show whether they have).
"""

from typing import NamedTuple

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

from agents import dqn
from agents.simple_model import SimpleModel, SimpleModelParams
from envs import gridworld as gw

LEARNERS = ("network", "linear", "tabular")
CELLS = gw.SIZE * gw.SIZE
LAYOUTS = [*gw.basic_layouts(), *gw.evaluation_layouts().values()]
NUM_STATES = len(LAYOUTS) * CELLS + 1  # the last row: any other bit pattern
UNVISITED_CONTINUATION_LOGIT = -20.0


def _row_of_pattern() -> np.ndarray:
    """(9 x 2^9,) row of each (agent cell, wall pattern): its state's, or the shared last."""
    rows = np.full(CELLS * 2**CELLS, NUM_STATES - 1, np.int32)
    for i, walls in enumerate(LAYOUTS):
        pattern = int((walls.reshape(-1) * 2 ** np.arange(CELLS)).sum())
        rows[np.arange(CELLS) * 2**CELLS + pattern] = i * CELLS + np.arange(CELLS)
    return rows


ROW_OF_PATTERN = _row_of_pattern()


def state_index(obs: jax.Array) -> jax.Array:
    """The table row of a grid-world observation: its (agent cell, wall layout), read from
    the first 36 bits (agent and wall blocks) only, so appended GPS bits change nothing; a
    pattern that is no state of the world (no agent bit, two, an unknown layout) gets the
    shared last row."""
    agent_bits = obs[..., :CELLS].astype(jnp.int32)
    agent = jnp.argmax(agent_bits, axis=-1)
    walls = obs[..., 2 * CELLS : 3 * CELLS].astype(jnp.int32)
    pattern = agent * 2**CELLS + (walls * (2 ** jnp.arange(CELLS))).sum(-1)
    row = jnp.asarray(ROW_OF_PATTERN)[pattern]
    return jnp.where(agent_bits.sum(-1) == 1, row, NUM_STATES - 1)


def features(obs: jax.Array) -> jax.Array:
    """What a linear map reads: the bits and a constant 1 (so the bias is a weight)."""
    x = obs.astype(jnp.float32)
    return jnp.concatenate([x, jnp.ones((*x.shape[:-1], 1), jnp.float32)], axis=-1)


def linear_map(output_size: int, kind: str, rows: int, init: float = 0.0) -> hk.Transformed:
    """A map starting at `init` everywhere: for `linear`, x -> W x on features (rows of W:
    the feature size); for `tabular`, index -> table[index], a lookup (the same as W times a
    one-hot, without the matrix product; its gradient is a scatter into the visited rows)."""
    start = hk.initializers.Constant(init)

    def forward(x):
        if kind == "tabular":
            return hk.get_parameter("table", (rows, output_size), init=start)[x]
        return hk.Linear(output_size, with_bias=False, w_init=start)(x)

    return hk.without_apply_rng(hk.transform(forward))


def q_network(kind: str, num_actions: int, hidden: tuple) -> hk.Transformed:
    """The Q-function of a learner kind, on observations."""
    if kind == "network":
        return dqn.mlp(num_actions, hidden)
    table = linear_map(num_actions, kind, NUM_STATES)
    read = state_index if kind == "tabular" else features
    return hk.Transformed(
        init=lambda key, obs: table.init(key, read(obs)),
        apply=lambda params, obs: table.apply(params, read(obs)),
    )


class LinearModel(NamedTuple):
    """The simple model's heads (reward, continuation, next bits) as a separate linear map
    per action (linear) or a table row per (state, action) (tabular); its loss and sampling
    are the simple model's."""

    obs_size: int
    num_actions: int
    kind: str  # "linear" or "tabular"
    bit_sampling: str = "sigmoid"
    next_obs: str = "sample"  # the simple model's sampling settings, at the paper's values
    target_samples: int = 1

    def networks(self):
        tabular = self.kind == "tabular"
        rows = NUM_STATES * self.num_actions if tabular else 0
        continuation = UNVISITED_CONTINUATION_LOGIT if tabular else 0.0
        return SimpleModelParams(
            linear_map(1, self.kind, rows),
            linear_map(1, self.kind, rows, continuation),
            linear_map(self.obs_size, self.kind, rows),
        )

    def inputs(self, obs, action):
        """tabular: the row of (state, action); linear: the features in the block of
        `action` (zeros in the other actions' blocks), so each action has its own map."""
        if self.kind == "tabular":
            return state_index(obs) * self.num_actions + action
        x = features(obs)
        one_hot = jax.nn.one_hot(action, self.num_actions, dtype=jnp.float32)
        return (one_hot[..., :, None] * x[..., None, :]).reshape(*x.shape[:-1], -1)

    def init(self, key) -> SimpleModelParams:
        example = self.inputs(jnp.zeros(self.obs_size, bool), jnp.int32(0))
        keys = jax.random.split(key, 3)
        return SimpleModelParams(*(net.init(k, example) for net, k in zip(self.networks(), keys)))

    def predict(self, params: SimpleModelParams, obs, action):
        x = self.inputs(obs, action)
        reward, continuation, next_obs = (
            net.apply(p, x) for net, p in zip(self.networks(), params)
        )
        return reward[..., 0], continuation[..., 0], next_obs

    losses = SimpleModel.losses
    loss = SimpleModel.loss
    bit_probabilities = SimpleModel.bit_probabilities
    transition = SimpleModel.transition


def model(kind: str, obs_size: int, num_actions: int, hidden: tuple):
    """The model of a learner kind: the simple model, or its linear / tabular counterpart."""
    if kind == "network":
        return SimpleModel(obs_size, num_actions, hidden)
    return LinearModel(obs_size, num_actions, kind)
