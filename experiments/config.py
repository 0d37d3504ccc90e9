"""From a Hydra config to the objects of a run, checking every value before anything compiles.

A bad value raises ConfigError with one sentence naming the key and what is allowed.
"""

import inspect
from dataclasses import dataclass
from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, OmegaConf, open_dict

import agents
import envs
from agents import dqn
from envs import gridworld
from experiments import offline, saved_models
from experiments.grid_search import Grid
from experiments.online import Regime
from experiments.tuned import read_tuned_file, tuned

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
GROUPS = ("env", "agent", "regime", "scale", "experiment", "rollouts")


class ConfigError(ValueError):
    pass


def choices(group: str) -> list[str]:
    return sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml"))


def check_choice(key: str, value, allowed) -> None:
    if value not in allowed:
        raise ConfigError(f"{key} must be one of {', '.join(map(str, allowed))}; got {value!r}.")


def check_positive(key: str, value, integer: bool = True) -> None:
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or value <= 0:
        what = "a positive integer" if integer else "a positive number"
        raise ConfigError(f"{key} must be {what}; got {value!r}.")


def check_overrides(arguments: list[str]) -> None:
    """Command-line overrides, checked before Hydra sees them so that a mistake gets one
    sentence (Hydra's own messages span many lines): group choices always, and for a single
    run, that every override composes."""
    for argument in arguments:
        group, _, value = argument.lstrip("+~").partition("=")
        if group in GROUPS and value and not value.startswith(("choice(", "range(", "glob(")):
            for option in value.split(","):
                check_choice(group, option, choices(group))
    if {"-m", "--multirun"} & set(arguments):
        return
    overrides = [a for a in arguments if not a.startswith("-")]
    with initialize_config_dir(version_base=None, config_dir=str(CONFIG_DIR)):
        for i, override in enumerate(overrides):
            try:
                compose("config", overrides=overrides[: i + 1])
            except Exception as error:  # Hydra raises several kinds; all end here
                raise ConfigError(_explain(override, overrides[:i], error)) from None


def _explain(override: str, earlier: list[str], error: Exception) -> str:
    key = override.lstrip("+~").partition("=")[0]
    parent, _, leaf = key.rpartition(".")
    if parent and not override.startswith("+"):
        node = OmegaConf.select(compose("config", overrides=earlier), parent)
        if isinstance(node, DictConfig) and leaf not in node:
            return f"{key} is not a setting; the settings of {parent} are {', '.join(node)}."
    return f"the override {override!r} is not valid: {str(error).splitlines()[0]}"


@dataclass(frozen=True)
class Job:
    env: object
    agent: agents.Agent
    regime: Regime
    hyper: dqn.Hyper | None  # Python floats, broadcast over seeds; None for a grid search
    num_seeds: int
    seed: int
    grid: Grid | None = None
    save_at: tuple[int, ...] = ()  # env steps at which to save the agent states
    load_model: str | None = None  # a saved agent state whose models the members start from


def apply_level(cfg: DictConfig) -> DictConfig:
    """`level=<env>-<complexity>` (e.g. procmaze-4) chooses the environment and its
    complexity in one value, so that one sweep can span environments whose complexity
    settings differ (Figure 3). Other env settings given with it (env.spontaneous) carry over."""
    level = cfg.get("level")
    if level is None:
        return cfg
    name, _, size = str(level).rpartition("-")
    if name not in envs.NAMES or not size.isdigit():
        raise ConfigError(
            f"level must be <env>-<complexity> with env one of "
            f"{', '.join(envs.NAMES)}, e.g. procmaze-4; got {level!r}."
        )
    env_cfg = OmegaConf.load(CONFIG_DIR / "env" / f"{name}.yaml")
    env_cfg[envs.REGISTRY[name].complexity_key] = int(size)
    if "spontaneous" in cfg.env:
        env_cfg.spontaneous = cfg.env.spontaneous
    cfg = cfg.copy()
    with open_dict(cfg):
        cfg.env = env_cfg
    return cfg


def make_env(env_cfg: DictConfig):
    settings = OmegaConf.to_container(env_cfg, resolve=True)
    name = settings.pop("name", None)
    check_choice("env.name", name, envs.NAMES)
    try:
        return envs.make(name, **settings)
    except TypeError as error:  # an unknown setting
        raise ConfigError(f"env: {error}.") from None
    except ValueError as error:
        raise ConfigError(str(error)) from None


def make_agent(agent_cfg: DictConfig, env):
    settings = OmegaConf.to_container(agent_cfg, resolve=True)
    name = settings.pop("name", None)
    check_choice("agent.name", name, sorted(agents.REGISTRY))
    accepted = inspect.signature(agents.REGISTRY[name]).parameters
    for key, value in settings.items():
        if key not in accepted or key == "env":
            allowed = ", ".join(k for k in accepted if k != "env")
            raise ConfigError(
                f"agent.{key} is not a setting of agent {name}; its settings are {allowed}."
            )
    try:
        return agents.make(name, env, **settings)
    except ValueError as error:
        raise ConfigError(str(error)) from None


def make_regime(cfg: DictConfig) -> Regime:
    r, s = cfg.regime, cfg.scale
    for key in ("total_steps", "updates_per_step", "target_update_frequency", "eval_interval"):
        check_positive(f"regime.{key}", r[key])
    if not isinstance(r.learning_starts, int) or r.learning_starts < 0:
        raise ConfigError(
            f"regime.learning_starts must be an integer >= 0; got {r.learning_starts!r}."
        )
    check_positive("scale.steps_fraction", s.steps_fraction, integer=False)
    intervals = max(1, round(r.total_steps * s.steps_fraction / r.eval_interval))
    total_steps = intervals * r.eval_interval
    if total_steps <= r.learning_starts:
        raise ConfigError(
            f"regime.learning_starts ({r.learning_starts}) must be below the run's "
            f"{total_steps} steps (regime.total_steps x scale.steps_fraction)."
        )
    return Regime(
        total_steps,
        r.updates_per_step,
        r.target_update_frequency,
        r.eval_interval,
        r.learning_starts,
    )


def hyperparameters(cfg: DictConfig) -> tuple[float, float]:
    step_size, temperature = cfg.step_size, cfg.temperature
    if step_size is None or temperature is None:
        extra = None
        if cfg.tuned_file is not None:
            if not Path(cfg.tuned_file).is_file():
                raise ConfigError(
                    f"tuned_file must be an existing YAML file; got {cfg.tuned_file!r}."
                )
            extra = read_tuned_file(cfg.tuned_file)
        found = tuned(cfg.agent.name, cfg.env.name, cfg.regime.name, extra)
        if found is None:
            raise ConfigError(
                f"step_size and temperature have no tuned default for agent {cfg.agent.name} "
                f"on {cfg.env.name} ({cfg.regime.name}); set both, "
                "e.g. step_size=1e-4 temperature=0.1."
            )
        step_size = found[0] if step_size is None else step_size
        temperature = found[1] if temperature is None else temperature
    check_positive("step_size", step_size, integer=False)
    check_positive("temperature", temperature, integer=False)
    return float(step_size), float(temperature)


KINDS = ("online", "grid_search", "offline_gridworld")


def build(cfg: DictConfig) -> Job:
    check_choice("kind", cfg.kind, KINDS)
    check_positive("scale.num_seeds", cfg.scale.num_seeds)
    if not isinstance(cfg.seed, int) or isinstance(cfg.seed, bool) or cfg.seed < 0:
        raise ConfigError(f"seed must be an integer >= 0; got {cfg.seed!r}.")
    if not isinstance(cfg.checkpoint_every, int) or cfg.checkpoint_every < 0:
        raise ConfigError(
            f"checkpoint_every must be an integer >= 0; got {cfg.checkpoint_every!r}."
        )
    env = make_env(cfg.env)
    agent = make_agent(cfg.agent, env)
    regime = make_regime(cfg)
    if cfg.kind == "grid_search":
        for key in ("save_at", "load_model"):
            if cfg.get(key):
                raise ConfigError(
                    f"{key} must be empty for a grid search: only online runs use it."
                )
        return Job(env, agent, regime, None, cfg.scale.num_seeds, cfg.seed, make_grid(cfg.grid))
    hyper = dqn.Hyper(*hyperparameters(cfg))
    save_at = check_save_at(cfg.get("save_at", []), regime)
    load_model = cfg.get("load_model")
    if load_model is not None:
        check_load_model(str(load_model), agent, cfg.scale.num_seeds)
    return Job(
        env,
        agent,
        regime,
        hyper,
        cfg.scale.num_seeds,
        cfg.seed,
        save_at=save_at,
        load_model=load_model,
    )


def check_load_model(path: str, agent, num_seeds: int) -> None:
    """The saved agent state must fit this run: same agent settings, env and seeds."""
    try:
        saved_models.check_model_file(path, saved_models.state_shapes(agent, num_seeds))
    except ValueError as error:
        raise ConfigError(str(error)) from None


def check_save_at(values, regime: Regime) -> tuple[int, ...]:
    """The env steps at which a run saves its agent states: the loop stops only at the end
    of an evaluation interval, so each must be a multiple of it within the run."""
    steps = list(values) if OmegaConf.is_list(values) or isinstance(values, list) else None
    if steps is None or not all(
        isinstance(t, int)
        and not isinstance(t, bool)
        and 0 < t <= regime.total_steps
        and t % regime.eval_interval == 0
        for t in steps
    ):
        raise ConfigError(
            f"save_at must be a list of env steps that are multiples of regime.eval_interval "
            f"({regime.eval_interval}) up to the run's {regime.total_steps} steps; got {values!r}."
        )
    return tuple(sorted(set(steps)))


@dataclass(frozen=True)
class OfflineJob:
    """The offline grid world of Figure 1 (experiment=fig1)."""

    settings: offline.Settings
    hyper: dqn.Hyper  # scalars; broadcast over seeds
    agents: tuple
    coverages: tuple
    num_seeds: int
    seed: int


def build_offline(cfg: DictConfig) -> OfflineJob:
    """Check every value of an offline_gridworld run (configs/experiment/fig1.yaml)."""
    o = cfg.offline
    # The budgets are chosen per scale by interpolation, so check the scale first.
    check_choice("scale", cfg.scale.name, list(o.budgets))
    for key in ("num_seeds", "model_steps", "q_steps", "chunk"):
        check_positive(f"scale.{key}", cfg.scale[key])
    if not isinstance(cfg.seed, int) or isinstance(cfg.seed, bool) or cfg.seed < 0:
        raise ConfigError(f"seed must be an integer >= 0; got {cfg.seed!r}.")
    for key, allowed in (("agents", offline.AGENTS), ("coverages", gridworld.COVERAGES)):
        values = o[key]
        if not OmegaConf.is_list(values) or not values or len(set(values)) != len(values):
            raise ConfigError(
                f"offline.{key} must be a non-empty list without repeats of "
                f"{', '.join(allowed)}; got {values!r}."
            )
        for value in values:
            check_choice(f"offline.{key}", value, allowed)
    for key in ("model_batch_size", "target_update_frequency"):
        check_positive(f"offline.{key}", o[key])
    for key in ("model_steps", "q_steps"):
        if cfg.scale[key] % cfg.scale.chunk:
            raise ConfigError(
                f"scale.{key} ({cfg.scale[key]}) must be a multiple of scale.chunk "
                f"({cfg.scale.chunk})."
            )
    hidden = list(o.hidden) if OmegaConf.is_list(o.hidden) else None
    if not hidden or not all(
        isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in hidden
    ):
        raise ConfigError(
            f"offline.hidden must be a non-empty list of positive integers; got {o.hidden!r}."
        )
    check_positive("offline.model_step_size", o.model_step_size, integer=False)
    # A top-level step_size / temperature overrides the experiment's choice.
    step_size = o.step_size if cfg.step_size is None else cfg.step_size
    temperature = o.temperature if cfg.temperature is None else cfg.temperature
    check_positive("step_size", step_size, integer=False)
    check_positive("temperature", temperature, integer=False)
    settings = offline.Settings(
        model_steps=cfg.scale.model_steps,
        q_steps=cfg.scale.q_steps,
        chunk=cfg.scale.chunk,
        hidden=tuple(hidden),
        model_batch_size=o.model_batch_size,
        model_step_size=float(o.model_step_size),
        target_update_frequency=o.target_update_frequency,
    )
    hyper = dqn.Hyper(float(step_size), float(temperature))
    return OfflineJob(
        settings, hyper, tuple(o.agents), tuple(o.coverages), cfg.scale.num_seeds, cfg.seed
    )


def make_grid(grid_cfg: DictConfig) -> Grid:
    exponents = {}
    for key in ("step_size_exponents", "temperature_exponents"):
        values = list(grid_cfg[key])
        if not values or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            raise ConfigError(f"grid.{key} must be a non-empty list of integers; got {values!r}.")
        exponents[key] = tuple(values)
    if not isinstance(grid_cfg.chunk_size, int) or grid_cfg.chunk_size < 0:
        raise ConfigError(f"grid.chunk_size must be an integer >= 0; got {grid_cfg.chunk_size!r}.")
    if not isinstance(grid_cfg.memory_budget_gb, (int, float)) or grid_cfg.memory_budget_gb < 0:
        raise ConfigError(
            f"grid.memory_budget_gb must be a number >= 0; got {grid_cfg.memory_budget_gb!r}."
        )
    return Grid(
        **exponents,
        chunk_size=grid_cfg.chunk_size,
        memory_budget_gb=float(grid_cfg.memory_budget_gb),
    )


def run_name(*, _root_: DictConfig) -> str:
    """A readable run directory name: env and complexity, agent, regime, scale, and any
    hyperparameters set by hand."""
    env = _root_.env
    size = env.get(envs.REGISTRY[env.name].complexity_key, "") if env.name in envs.REGISTRY else ""
    where = str(_root_.level).replace("-", "") if _root_.get("level") else f"{env.name}{size}"
    parts = [where, _root_.agent.name, _root_.regime.name, _root_.scale.name]
    if _root_.get("kind") == "offline_gridworld":  # Figure 1: no env, agent or regime
        parts = ["fig1", _root_.scale.name]
    if _root_.step_size is not None:
        parts.append(f"lr{_root_.step_size}")
    if _root_.temperature is not None:
        parts.append(f"tau{_root_.temperature}")
    if env.get("spontaneous") is False:
        parts.append("nospont")
    if _root_.agent.get("rollout_length", 10) != 10:  # the 1-step ablation (rollouts=one_step)
        parts.append(f"rollouts{_root_.agent.rollout_length}x{_root_.agent.num_rollouts}")
    if _root_.agent.get("frozen"):
        parts.append("frozen")
    if _root_.get("load_model"):
        parts.append(
            f"from-{Path(str(_root_.load_model)).parent.parent.name}-"
            f"{Path(str(_root_.load_model)).stem}"
        )
    if _root_.seed:
        parts.append(f"seed{_root_.seed}")
    return "-".join(str(p) for p in parts)


OmegaConf.register_new_resolver("run_name", run_name, replace=True)
# A list as a sweep's comma-separated choices: ${csv:${some.list}} (configs/experiment/).
OmegaConf.register_new_resolver("csv", lambda values: ",".join(map(str, values)), replace=True)
