"""From a Hydra config to the objects of a run, checking every value before anything compiles.

A bad value raises ConfigError with one sentence naming the key and what is allowed.
"""

import copy
import functools
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import yaml
from hydra import compose, initialize_config_dir
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, OmegaConf, open_dict

import agents
import envs
from agents import dqn
from envs import checks, gridworld
from experiments.errors import ConfigError
from experiments.settings import Grid, OfflineSettings, Regime
from experiments.tuned import read_tuned_file, tuned

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
GROUPS = (
    "env", "agent", "regime", "scale", "experiment", "rollouts", "logger", "fidelity", "design",
    "speed",
)
# The switches of configs/fidelity/: the suite's behaviour first, then the public code's.
FIDELITY = {
    "bit_sampling": ("sigmoid", "clipped_logit"),
    "after_terminal": ("reset_obs", "terminal_obs"),
    "learning_starts": ("buffer_size", "interval"),
    "rollout_starts": ("shared", "authors"),
}


def config_errors(function):
    """The settings checks (envs/checks.py) and the constructors of envs and agents raise
    ValueError; at this layer every one of them is a bad setting, which the CLI reports."""

    @functools.wraps(function)
    def checked(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except ConfigError:
            raise
        except ValueError as error:
            raise ConfigError(str(error)) from None

    return checked


def choices(group: str) -> list[str]:
    return sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml"))


@config_errors
def check_command(arguments: list[str], check_job=None) -> list[str]:
    """Every run a command would start (one, or each member of a -m sweep) checked before
    Hydra creates a folder, so that a mistake gets one sentence (Hydra's own messages span
    many lines) and leaves nothing behind, not even a sweep's multirun.yaml. `check_job(cfg,
    job)` adds the caller's checks. Returns the arguments for Hydra: an env setting that the
    composed env group lacks is added (`++env.gps=true`), so that it reaches the env of
    `level=` (apply_level), which checks it."""
    flags, overrides = split_flags(arguments)
    if {flag.partition("=")[0] for flag in flags} & INSPECTING:
        return arguments  # Hydra prints the config or its help and runs nothing
    check_group_choices(overrides)
    sweep = bool({"-m", "--multirun"} & set(flags))
    with initialize_config_dir(version_base=None, config_dir=str(CONFIG_DIR)):
        added = composable(overrides)
        overrides = [added.get(o, o) for o in overrides]
        members = sweep_members(overrides) if sweep else [overrides]
        cfg = compose("config", overrides=members[0], return_hydra_config=True)
        for member in member_configs(members) if sweep else [cfg]:
            check_run(member, check_job)
    check_writable(Path(cfg.hydra.sweep.dir if sweep else cfg.hydra.run.dir))
    return [added.get(a, a) for a in arguments]


# Hydra's flags that print and run nothing, and those that take the next argument as value.
INSPECTING = {"--cfg", "-c", "--help", "-h", "--hydra-help", "--info", "-i", "--version",
              "--shell-completion", "-sc", "--resolve"}  # fmt: skip
TAKES_VALUE = {"--cfg", "-c", "--package", "-p", "--config-path", "-cp", "--config-name",
               "-cn", "--config-dir", "-cd", "--experimental-rerun"}  # fmt: skip


def split_flags(arguments: list[str]) -> tuple[list[str], list[str]]:
    """Hydra's flags (with the values they take: `--cfg job`) and the overrides."""
    flags, overrides, arguments = [], [], list(arguments)
    while arguments:
        argument = arguments.pop(0)
        if not argument.startswith("-"):
            overrides.append(argument)
            continue
        flags.append(argument)
        if argument in TAKES_VALUE and arguments and not arguments[0].startswith("-"):
            flags.append(arguments.pop(0))
    return flags, overrides


def check_group_choices(arguments: list[str]) -> None:
    for argument in arguments:
        group, _, value = argument.lstrip("+~").partition("=")
        if group in GROUPS and value and not value.startswith(("choice(", "range(", "glob(")):
            for option in value.split(","):
                checks.one_of(group, option, choices(group))


def first_choice(override: str) -> str:
    """A sweep override (`seed=0,1`, `seed=range(3)`) as its first value, to compose."""
    parsed = OverridesParser.create().parse_overrides([override])[0]
    if not parsed.is_sweep_override():
        return override
    return f"{parsed.get_key_element()}={next(iter(parsed.sweep_string_iterator()))}"


def composable(overrides: list[str]) -> dict[str, str]:
    """The overrides that compose only when added (`env.gps=true` on the default env group
    when level= names ProcMaze), as {given: added}; any other that does not compose is a
    ConfigError naming it."""
    added, firsts = {}, [first_choice(o) for o in overrides]
    try:
        compose("config", overrides=firsts)
        return added
    except Exception:  # Hydra raises several kinds; find the first override that fails
        pass
    for i, override in enumerate(overrides):
        try:
            compose("config", overrides=firsts[: i + 1])
            continue
        except Exception as error:
            if not override.startswith("env."):
                raise ConfigError(_explain(firsts[i], firsts[:i], error)) from None
        try:
            compose("config", overrides=[*firsts[:i], f"++{firsts[i]}"])
        except Exception as error:
            raise ConfigError(_explain(firsts[i], firsts[:i], error)) from None
        firsts[i], added[override] = f"++{firsts[i]}", f"++{override}"
    return added


def sweep_members(overrides: list[str]) -> list[list[str]]:
    """The overrides of each member of a -m sweep, as Hydra's basic sweeper makes them: the
    experiment's sweep (hydra.sweeper.params), with the command's overrides in place of its
    keys."""
    firsts = [first_choice(o) for o in overrides]
    cfg = compose("config", overrides=firsts, return_hydra_config=True)
    params = cfg.hydra.sweeper.params
    params = OmegaConf.to_container(params, resolve=True) if params else {}
    parsed = OverridesParser.create().parse_overrides(
        [f"{k}={v}" for k, v in params.items()] + overrides
    )
    return BasicSweeper.split_arguments(parsed, max_batch_size=None)[0]


def member_configs(members: list[list[str]]):
    """The composed config (without Hydra's) of each sweep member. Members that differ only
    in plain values (level=..., seed=...) share one composition, Hydra's slow part: the
    values are set on a copy of it as Hydra sets them."""
    composed = {}
    for member in members:
        parsed = OverridesParser.create().parse_overrides(member)
        values = [o for o in parsed if _plain_value(o)]
        rest = tuple(o.input_line for o in parsed if not _plain_value(o))
        if rest not in composed:
            composed[rest] = compose("config", overrides=list(rest))
        cfg = copy.deepcopy(composed[rest])
        for override in values:
            OmegaConf.update(cfg, override.key_or_group, override.value(), merge=True)
        yield cfg


def _plain_value(override) -> bool:
    """A value set on a key the config has (`seed=1`), not a group choice, an addition or a
    deletion, nor Hydra's own."""
    key = override.key_or_group
    return not (
        override.is_add()
        or override.is_force_add()
        or override.is_delete()
        or override.package is not None
        or key.startswith("hydra")
        or (CONFIG_DIR / key.replace(".", "/")).is_dir()
    )


def check_run(cfg: DictConfig, check_job=None) -> None:
    """Everything a run checks before it writes (building its env and agent checks every
    value its folder name and stored config are made of)."""
    run_cfg = apply_level(OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"]))
    job = build_offline(run_cfg) if run_cfg.kind == "offline_gridworld" else build(run_cfg)
    if check_job is not None:
        check_job(run_cfg, job)


def check_writable(folder: Path) -> None:
    """A results folder the run can create (or write into): its nearest existing ancestor is
    a writable folder."""
    existing = folder.absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(
            f"the results folder {folder} cannot be written: {existing} is not a writable "
            "folder; choose another results_root=... (or hydra.run.dir=...)."
        )


def _explain(override: str, earlier: list[str], error: Exception) -> str:
    key = override.lstrip("+~").partition("=")[0]
    parent, _, leaf = key.rpartition(".")
    node = compose("config", overrides=earlier)
    if parent and not override.startswith("+"):
        node = OmegaConf.select(node, parent)
        if isinstance(node, DictConfig) and leaf not in node:
            return f"{key} is not a setting; the settings of {parent} are {', '.join(node)}."
    elif not parent and key not in node and key not in GROUPS:
        return (
            f"{key} is neither a setting nor a group; the groups are {', '.join(GROUPS)} and "
            f"the settings {', '.join(k for k in node if k not in GROUPS)}."
        )
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


@config_errors
def apply_level(cfg: DictConfig) -> DictConfig:
    """`level=<env>-<complexity>` (e.g. procmaze-4) chooses the environment and its
    complexity in one value, so that one sweep can span environments whose complexity
    settings differ (Figure 3). Every other env setting given with it (on the command line or
    by an experiment: env.spontaneous, env.gps, ...) carries over to the level's env, which
    must have it."""
    level = cfg.get("level")
    if level is None:
        return cfg
    name, _, size = str(level).rpartition("-")
    if name not in envs.NAMES or not size.isdigit():
        raise ConfigError(
            f"level must be <env>-<complexity> with env one of "
            f"{', '.join(envs.NAMES)}, e.g. procmaze-4; got {level!r}."
        )
    env_cfg = OmegaConf.create(env_defaults(name))
    complexity_key = envs.REGISTRY[name].complexity_key
    for key, value in given_env_settings(cfg.env).items():
        if key not in env_cfg:
            settings = ", ".join(k for k in env_cfg if k != "name")
            raise ConfigError(
                f"env.{key} is not a setting of {name} (level={level}), whose settings are "
                f"{settings}."
            )
        if key == complexity_key and value != int(size):
            raise ConfigError(
                f"env.{key}={value} and level={level} both set {name}'s complexity; give one."
            )
        env_cfg[key] = value
    env_cfg[complexity_key] = int(size)
    cfg = cfg.copy()
    with open_dict(cfg):
        cfg.env = env_cfg
    return cfg


@functools.cache
def env_defaults(name) -> dict:
    """The settings of configs/env/<name>.yaml ({} for a name without one)."""
    path = CONFIG_DIR / "env" / f"{name}.yaml"
    return OmegaConf.to_container(OmegaConf.load(path)) if path.is_file() else {}


def given_env_settings(env_cfg: DictConfig) -> dict:
    """The env settings that differ from those of the env group they were composed on:
    the ones a command or an experiment gave."""
    defaults = env_defaults(env_cfg.get("name"))
    return {
        key: value
        for key, value in env_cfg.items()
        if key != "name" and (key not in defaults or defaults[key] != value)
    }


@config_errors
def make_env(env_cfg: DictConfig):
    settings = OmegaConf.to_container(env_cfg, resolve=True)
    name = settings.pop("name", None)
    checks.one_of("env.name", name, envs.NAMES)
    try:
        return envs.make(name, **settings)
    except TypeError as error:  # an unknown setting
        raise ConfigError(f"env: {error}.") from None


@config_errors
def make_agent(agent_cfg: DictConfig, env):
    """The agent of `agent_cfg` through agents.make, which names any unknown setting."""
    settings = OmegaConf.to_container(agent_cfg, resolve=True)
    return agents.make(settings.pop("name", None), env, **settings)


@config_errors
def check_fidelity(fidelity: DictConfig) -> None:
    checks.one_of("fidelity", fidelity.name, choices("fidelity"))
    for key, allowed in FIDELITY.items():
        checks.one_of(f"fidelity.{key}", fidelity[key], allowed)


@config_errors
def make_regime(cfg: DictConfig) -> Regime:
    r, s = cfg.regime, cfg.scale
    for key in ("total_steps", "updates_per_step", "target_update_frequency", "eval_interval"):
        checks.positive_int(f"regime.{key}", r[key])
    checks.integer_at_least("regime.learning_starts", r.learning_starts, 0)
    checks.positive_number("scale.steps_fraction", s.steps_fraction)
    intervals = max(1, round(r.total_steps * s.steps_fraction / r.eval_interval))
    total_steps = intervals * r.eval_interval
    if total_steps <= r.learning_starts:
        raise ConfigError(
            f"regime.learning_starts ({r.learning_starts}) must be below the run's "
            f"{total_steps} steps (regime.total_steps x scale.steps_fraction)."
        )
    random_data = r.get("random_data")
    if random_data is not None:
        checks.positive_int("regime.random_data", random_data)
        if random_data >= total_steps:
            raise ConfigError(
                f"regime.random_data ({random_data}) must be null or below the run's "
                f"{total_steps} steps (regime.total_steps x scale.steps_fraction)."
            )
    learning_starts = r.learning_starts
    if cfg.fidelity.learning_starts == "interval":
        # The public code trains through whole evaluation intervals, from the first that
        # starts at or after learning_starts: the first update is one step after its start.
        learning_starts = -(-r.learning_starts // r.eval_interval) * r.eval_interval + 1
    return Regime(
        total_steps,
        r.updates_per_step,
        r.target_update_frequency,
        r.eval_interval,
        learning_starts,
        after_terminal=cfg.fidelity.after_terminal,
        random_data=random_data,
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
    checks.positive_number("step_size", step_size)
    checks.positive_number("temperature", temperature)
    return float(step_size), float(temperature)


KINDS = ("online", "grid_search", "offline_gridworld")


@config_errors
def build(cfg: DictConfig) -> Job:
    checks.one_of("kind", cfg.kind, KINDS)
    checks.positive_int("scale.num_seeds", cfg.scale.num_seeds)
    checks.integer_at_least("seed", cfg.seed, 0)
    checks.integer_at_least("checkpoint_every", cfg.checkpoint_every, 0)
    check_fidelity(cfg.fidelity)
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


@config_errors
def check_load_model(path: str, agent, num_seeds: int) -> None:
    """The saved agent state must fit this run: same agent settings, env and seeds."""
    from experiments import saved_models  # a JAX program: only runs that load a model need it

    saved_models.check_model_file(path, saved_models.state_shapes(agent, num_seeds))


@config_errors
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

    settings: OfflineSettings
    hyper: dqn.Hyper  # scalars; broadcast over seeds
    agents: tuple
    coverages: tuple
    num_seeds: int
    seed: int


@config_errors
def build_offline(cfg: DictConfig) -> OfflineJob:
    """Check every value of an offline_gridworld run (configs/experiment/fig1.yaml)."""
    # The JAX programs of Figure 1: only this run needs them.
    from experiments.offline import learners, training

    o = cfg.offline
    if fidelity_name_parts(cfg.fidelity):
        raise ConfigError(
            "fidelity must be fixed for experiment=fig1: the public code has no offline grid world."
        )
    # The budgets are chosen per scale by interpolation, so check the scale first.
    checks.one_of("scale", cfg.scale.name, list(o.budgets))
    for key in ("num_seeds", "model_steps", "q_steps", "chunk"):
        checks.positive_int(f"scale.{key}", cfg.scale[key])
    checks.integer_at_least("seed", cfg.seed, 0)
    for key, allowed in (("agents", training.AGENTS), ("coverages", gridworld.COVERAGES)):
        values = o[key]
        if not OmegaConf.is_list(values) or not values or len(set(values)) != len(values):
            raise ConfigError(
                f"offline.{key} must be a non-empty list without repeats of "
                f"{', '.join(allowed)}; got {values!r}."
            )
        for value in values:
            checks.one_of(f"offline.{key}", value, allowed)
    for key in ("model_batch_size", "target_update_frequency"):
        checks.positive_int(f"offline.{key}", o[key])
    for key in ("model_steps", "q_steps"):
        if cfg.scale[key] % cfg.scale.chunk:
            raise ConfigError(
                f"scale.{key} ({cfg.scale[key]}) must be a multiple of scale.chunk "
                f"({cfg.scale.chunk})."
            )
    checks.positive_ints("offline.hidden", o.hidden)
    # Issue 13's settings (their defaults are Figure 1's): checked before the step sizes,
    # which are read from offline.learners by the learner's name.
    learner = o.get("learner", "network")
    checks.one_of("offline.learner", learner, learners.LEARNERS)
    variant = gridworld.Variant(
        o.get("gps", False), o.get("distractors", 0), o.get("distractor_kind", "iid")
    )
    latent = [name for name in o.agents if name in training.LATENT_AGENTS]
    if latent and learner != "network":
        raise ConfigError(
            f"offline.agents {', '.join(latent)} need offline.learner=network (a DeepMDP's "
            f"encoder is a network); got offline.learner={learner}."
        )
    if learner == "tabular" and variant.distractors:
        raise ConfigError(
            "offline.distractors must be 0 with offline.learner=tabular: a table has a row "
            f"per state, and distractor bits are not part of it; got {variant.distractors}."
        )
    checks.positive_number("offline.model_step_size", o.model_step_size)
    # A top-level step_size / temperature overrides the experiment's choice.
    step_size = o.step_size if cfg.step_size is None else cfg.step_size
    temperature = o.temperature if cfg.temperature is None else cfg.temperature
    checks.positive_number("step_size", step_size)
    checks.positive_number("temperature", temperature)
    settings = OfflineSettings(
        model_steps=cfg.scale.model_steps,
        q_steps=cfg.scale.q_steps,
        chunk=cfg.scale.chunk,
        hidden=tuple(o.hidden),
        model_batch_size=o.model_batch_size,
        model_step_size=float(o.model_step_size),
        target_update_frequency=o.target_update_frequency,
        learner=learner,
        gps=variant.gps,
        distractors=variant.distractors,
        distractor_kind=variant.distractor_kind,
    )
    hyper = dqn.Hyper(float(step_size), float(temperature))
    return OfflineJob(
        settings, hyper, tuple(o.agents), tuple(o.coverages), cfg.scale.num_seeds, cfg.seed
    )


@config_errors
def make_grid(grid_cfg: DictConfig) -> Grid:
    exponents = {}
    for key in ("step_size_exponents", "temperature_exponents"):
        checks.integers(f"grid.{key}", grid_cfg[key])
        exponents[key] = tuple(grid_cfg[key])
    checks.integer_at_least("grid.chunk_size", grid_cfg.chunk_size, 0)
    checks.number_at_least("grid.memory_budget_gb", grid_cfg.memory_budget_gb, 0)
    return Grid(
        **exponents,
        chunk_size=grid_cfg.chunk_size,
        memory_budget_gb=float(grid_cfg.memory_budget_gb),
    )


@functools.cache
def figure1_offline() -> dict:
    """Figure 1's offline settings as configs/experiment/fig1.yaml has them."""
    return yaml.safe_load((CONFIG_DIR / "experiment" / "fig1.yaml").read_text())["offline"]


def run_name(*, _root_: DictConfig) -> str:
    """A readable run directory name: env and complexity, agent, regime, scale, and any
    hyperparameters set by hand."""
    env = _root_.env
    size = env.get(envs.REGISTRY[env.name].complexity_key, "") if env.name in envs.REGISTRY else ""
    where = str(_root_.level).replace("-", "") if _root_.get("level") else f"{env.name}{size}"
    parts = [where, _root_.agent.name, _root_.regime.name, _root_.scale.name]
    if _root_.get("kind") == "offline_gridworld":  # Figure 1: no env, agent or regime
        parts = ["fig1", _root_.scale.name]
        o = _root_.offline  # agents, coverages and issue 13's settings: named when not Figure 1's
        for key in ("agents", "coverages"):
            values = list(o[key]) if OmegaConf.is_list(o.get(key)) else [o.get(key)]
            if key in o and values != figure1_offline()[key]:
                parts.append("+".join(map(str, values)))
        if o.get("learner", "network") != "network":
            parts.append(o.learner)
        if o.get("gps"):
            parts.append("gps")
        if o.get("distractors"):
            parts.append(f"{o.distractor_kind}{o.distractors}")
    if _root_.step_size is not None:
        parts.append(f"lr{_root_.step_size}")
    if _root_.temperature is not None:
        parts.append(f"tau{_root_.temperature}")
    if env.get("spontaneous") is False:
        parts.append("nospont")
    if env.get("gps"):  # issue 13's ProcMaze variants
        parts.append("gps")
    if env.get("distractors"):
        parts.append(f"{env.distractor_kind}{env.distractors}")
    agent = _root_.agent
    if agent.get("rollout_length", 10) != 10:  # the 1-step ablation (rollouts=one_step)
        count = f"x{agent.num_rollouts}" if "num_rollouts" in agent else ""  # dyna_mix: none
        parts.append(f"rollouts{agent.rollout_length}{count}")
    if _root_.agent.get("frozen"):
        parts.append("frozen")
    parts += design_name_parts(_root_.agent)
    if _root_.get("load_model"):
        parts.append(
            f"from-{Path(str(_root_.load_model)).parent.parent.name}-"
            f"{Path(str(_root_.load_model)).stem}"
        )
    if _root_.get("fidelity") is not None:
        parts += fidelity_name_parts(_root_.fidelity)
    if _root_.seed:
        parts.append(f"seed{_root_.seed}")
    return "-".join(str(p) for p in parts)


# The Dyna design settings (issue 14) and their defaults: a run names those set apart.
DESIGN_DEFAULTS = {"search_control": "policy", "next_obs": "sample", "target_samples": 1,
                   "priority_exponent": 0.0}  # fmt: skip


def design_name_parts(agent: DictConfig) -> list[str]:
    return [f"{k}{agent[k]}" for k, v in DESIGN_DEFAULTS.items() if agent.get(k, v) != v]


def fidelity_name_parts(fidelity: DictConfig) -> list[str]:
    """Nothing for `fixed`, so that runs named before the switch existed keep their names;
    otherwise the preset's name and every switch set apart from it."""
    preset = CONFIG_DIR / "fidelity" / f"{fidelity.name}.yaml"
    defaults = OmegaConf.load(preset) if preset.is_file() else {}
    parts = [] if fidelity.name == "fixed" else [str(fidelity.name)]
    return parts + [str(v) for k, v in fidelity.items() if k != "name" and defaults.get(k) != v]


# The settings that never change a run's results: where it is written, what it reports, how
# often it checkpoints, how its loop is unrolled (speed.scan_unroll: bit for bit for every
# agent on a CPU; speed.branches=select moves the model agents' last bits, docs/gpu.md, so it
# counts). `level` is folded into `env` and `tuned_file` into step_size and temperature.
# Every other key of the stored config is the run's identity: two runs differ in one of
# them, or are the same run.
NOT_IDENTITY = (
    "hydra", "results_root", "progress", "checkpoint_every", "logger", "speed.scan_unroll",
    "level", "tuned_file",
)  # fmt: skip


def in_identity(key: str) -> bool:
    """Whether the setting `key` (dotted) is part of a run's identity."""
    return key not in NOT_IDENTITY and key.partition(".")[0] not in NOT_IDENTITY


@config_errors
def stored_config(cfg: DictConfig) -> dict:
    """What a run writes as its config.yaml: the resolved config with `level` applied and the
    step size and temperature it uses (tuned ones looked up), plus its total_steps; for
    Figure 1's offline grid world only the groups it reads."""
    cfg = apply_level(OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"]))
    everything = OmegaConf.to_container(cfg, resolve=True)
    if cfg.kind == "offline_gridworld":  # the online groups (env, agent, regime) are unused
        stored = {k: everything[k] for k in ("kind", "seed", "scale", "offline", "progress")}
        given = {"step_size": cfg.step_size, "temperature": cfg.temperature}
        chosen = {k: cfg.offline[k] if v is None else v for k, v in given.items()}
        numbers = {k: float(v) for k, v in chosen.items() if isinstance(v, int | float)}
        return stored | chosen | numbers
    if cfg.kind != "grid_search":
        step_size, temperature = hyperparameters(cfg)
        everything.update(step_size=step_size, temperature=temperature)
    return everything | {"total_steps": make_regime(cfg).total_steps}


def identity(stored: dict) -> dict:
    """The settings of a stored config that can change the run's results."""
    kept = {key: value for key, value in stored.items() if in_identity(key)}
    for group, value in kept.items():
        if isinstance(value, dict):
            kept[group] = {k: v for k, v in value.items() if in_identity(f"{group}.{k}")}
    return kept


def fingerprint(stored: dict) -> str:
    """A short hash of a run's identity, the end of its folder name."""
    text = json.dumps(identity(stored), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def first_difference(there: dict, here: dict, prefix: str = "") -> str | None:
    """The first setting in which two identities differ, in words, or None."""
    for key in sorted(set(there) | set(here)):
        a, b = there.get(key), here.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            found = first_difference(a, b, f"{prefix}{key}.")
            if found:
                return found
        elif a != b:
            return f"{prefix}{key} is {a} there and {b} here"
    return None


def run_id(*, _root_: DictConfig) -> str:
    """The fingerprint of the run `_root_` describes, for its folder name. A config that
    does not check out gets none: the run refuses it before writing anything."""
    try:
        return fingerprint(stored_config(_root_))
    except ConfigError:
        return "unchecked"


OmegaConf.register_new_resolver("run_id", run_id, replace=True)
OmegaConf.register_new_resolver("run_name", run_name, replace=True)
# A list as a sweep's comma-separated choices: ${csv:${some.list}} (configs/experiment/).
OmegaConf.register_new_resolver("csv", lambda values: ",".join(map(str, values)), replace=True)
