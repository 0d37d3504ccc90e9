"""The plain settings of a run: dataclasses of Python values that config validation builds
without importing the JAX programs that run them (experiments/online.py, grid_search.py,
experiments/offline/)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Regime:
    """How much data and how many updates (SPEC section 2: high_data / low_data)."""

    total_steps: int
    updates_per_step: int
    target_update_frequency: int
    eval_interval: int
    learning_starts: int = 1000  # the buffer size at the first update
    eval_runs: int = 32
    eval_steps: int = 100
    # After a terminal step the agent acts from the reset observation ("reset_obs"), or, as
    # the public code does, from the terminal one ("terminal_obs"; configs/fidelity/).
    after_terminal: str = "reset_obs"
    # Learning in a dream (World Models; docs/studies/dream.md): None keeps every step the
    # agent takes (the paper). N: the first N steps act uniformly at random and are the only
    # real data ever kept; the agent then learns on, from that data alone (a model agent from
    # its model's rollouts), and is evaluated in the real environment.
    random_data: int | None = None


@dataclass(frozen=True)
class Grid:
    """Step sizes 1e-4 * 2^k and temperatures 0.1 * 2^k, as the paper searched them."""

    step_size_exponents: tuple[int, ...]
    temperature_exponents: tuple[int, ...]
    chunk_size: int = 0  # members per compiled batch; 0 = as many as fit the memory budget
    memory_budget_gb: float = 0.0  # 0 = 70% of the device's memory

    def settings(self) -> list[tuple[float, float]]:
        return [
            (1e-4 * 2.0**i, 0.1 * 2.0**j)
            for i in self.step_size_exponents
            for j in self.temperature_exponents
        ]


@dataclass(frozen=True)
class OfflineSettings:
    """The offline grid world of Figure 1 (configs/experiment/fig1.yaml; Appendix E is not in
    the paper, see docs/figures/figure1.md). Each phase runs `chunk` steps per call of its
    program."""

    model_steps: int  # model training steps, before any Q update
    q_steps: int  # Q-network updates
    chunk: int  # divides both step counts
    hidden: tuple[int, ...]  # every network: Q and the model's three MLPs
    model_batch_size: int  # dataset transitions per model step
    model_step_size: float
    target_update_frequency: int  # Q updates between target-network copies
    # Issue 13 (the defaults are Figure 1): the function class of Q and the model
    # (experiments/offline/learners.py) and the bits appended to observations (gw.Variant).
    learner: str = "network"
    gps: bool = False
    distractors: int = 0
    distractor_kind: str = "iid"
