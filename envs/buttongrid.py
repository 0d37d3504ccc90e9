"""ButtonGrid: walk onto buttons to toggle them; all on pays 1 and re-deals (SPEC section 1)."""

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from envs import checks
from envs.core import (
    GRID_MOVES,
    bernoulli,
    cell_mask,
    grid_target,
    random_cell,
)


class ButtonGridState(NamedTuple):
    agent: jax.Array  # (2,) int32 (row, col)
    buttons: jax.Array  # (b, 2) int32, distinct cells
    on: jax.Array  # (b,) bool


@dataclass(frozen=True)
class ButtonGrid:
    name: ClassVar[str] = "buttongrid"
    display: ClassVar[str] = "ButtonGrid"  # how figures and tables name it
    complexity_key: ClassVar[str] = "num_buttons"  # the setting the paper scales
    complexity_label: ClassVar[str] = "buttons"  # its axis label
    episodic: ClassVar[bool] = False

    num_buttons: int = 4
    grid_size: int = 5
    spontaneous: bool = True

    def __post_init__(self):
        checks.integer_at_least("env.grid_size", self.grid_size, 2)
        checks.integer_in(
            "env.num_buttons", self.num_buttons, 1, self.grid_size**2, "env.grid_size**2"
        )
        checks.boolean("env.spontaneous", self.spontaneous)

    @property
    def num_actions(self) -> int:
        return len(GRID_MOVES)

    @property
    def obs_size(self) -> int:
        return 3 * self.grid_size**2

    @property
    def spontaneous_probability(self) -> float:
        return 1.0 / (10 * self.grid_size**2) if self.spontaneous else 0.0

    def initial_state(self, key: jax.Array) -> ButtonGridState:
        g = self.grid_size
        agent_key, buttons_key = jax.random.split(key)
        cells = jax.random.choice(buttons_key, g * g, (self.num_buttons,), replace=False)
        return ButtonGridState(
            agent=random_cell(agent_key, jnp.ones((g, g), bool)),
            buttons=jnp.stack([cells // g, cells % g], axis=1).astype(jnp.int32),
            on=jnp.zeros(self.num_buttons, bool),
        )

    def reset(self, key: jax.Array):
        state = self.initial_state(key)
        return state, self.observe(state)

    def step(self, key: jax.Array, state: ButtonGridState, action: jax.Array):
        event_key, redraw_key = jax.random.split(key)
        success = state.on.all()
        agent = grid_target(state.agent, action, self.grid_size, self.grid_size)
        # Only arriving on a button presses it: standing still or bumping an edge does not.
        moved = (agent != state.agent).any()
        pressed = moved & (state.buttons == agent).all(axis=1)
        on = (state.on ^ pressed) | bernoulli(event_key, self.spontaneous_probability)
        stepped = ButtonGridState(agent=agent, buttons=state.buttons, on=on)
        state = jax.tree.map(
            lambda fresh, kept: jnp.where(success, fresh, kept),
            self.initial_state(redraw_key),
            stepped,
        )
        return state, self.observe(state), success.astype(jnp.float32), jnp.bool_(False)

    def button_pictures(self, state: ButtonGridState) -> tuple[jax.Array, jax.Array]:
        """(g, g) bool pictures of the on buttons and the off buttons."""
        g = self.grid_size
        cells = state.buttons[:, 0] * g + state.buttons[:, 1]
        empty = jnp.zeros(g * g, bool)
        on = empty.at[cells].set(state.on).reshape(g, g)
        off = empty.at[cells].set(~state.on).reshape(g, g)
        return on, off

    def observe(self, state: ButtonGridState) -> jax.Array:
        g = self.grid_size
        on, off = self.button_pictures(state)
        return jnp.stack([cell_mask(state.agent, g, g), on, off], axis=-1).reshape(-1)

    def render(self, state: ButtonGridState) -> str:
        """'.' empty, 'o' off button, 'O' on button, 'A' agent; agent on a button: 'x' / 'X'."""
        on, off = (np.asarray(p) for p in self.button_pictures(state))
        picture = np.where(on, "O", np.where(off, "o", "."))
        agent = tuple(np.asarray(state.agent))
        picture[agent] = {"O": "X", "o": "x", ".": "A"}[picture[agent]]
        return "\n".join("".join(row) for row in picture)
