"""The tuned Q step size and softmax temperature of an (agent, env, regime): the paper's, in
configs/tuned.yaml (SPEC section 3: its Figure 3 grid search at ProcMaze n=4, ButtonGrid b=4,
PanFlute n=7, reused at every complexity), or a grid search's tuned.yaml given as
`tuned_file=`, which takes precedence."""

from pathlib import Path

from omegaconf import OmegaConf

TUNED_FILE = Path(__file__).resolve().parent.parent / "configs" / "tuned.yaml"


def _table(by_agent: dict) -> dict:
    """`agent: env: regime: {step_size, temperature}` as {(agent, env): {regime: (step_size,
    temperature)}}."""
    table = {}
    for agent, by_env in (by_agent or {}).items():
        for env, by_regime in by_env.items():
            table[(agent, env)] = {
                regime: (float(v["step_size"]), float(v["temperature"]))
                for regime, v in by_regime.items()
            }
    return table


def read_tuned_file(path) -> dict:
    """A YAML file of `agent: env: regime: {step_size, temperature}` (as a grid search
    writes it), in the form of TUNED."""
    return _table(OmegaConf.to_container(OmegaConf.load(path)))


_PAPER = OmegaConf.to_container(OmegaConf.load(TUNED_FILE))
TUNED = _table(_PAPER["tuned"])  # (agent, env) -> {regime: (step_size, temperature)}
# Where the paper tuned nothing: the agent or env whose values are used instead.
AGENT_FALLBACK = _PAPER["borrowed"]["agents"]
ENV_FALLBACK = _PAPER["borrowed"]["envs"]


def tuned(agent: str, env: str, regime: str, extra: dict | None = None):
    """(step_size, temperature), or None when there is no tuned value for this triple.
    Entries of `extra` (from a tuned file) take precedence over the paper's."""
    for table in (extra or {}, TUNED):
        for key in ((agent, env), (AGENT_FALLBACK.get(agent, agent), ENV_FALLBACK.get(env, env))):
            if regime in table.get(key, {}):
                return table[key][regime]
    return None
