"""The tuned Q step size and softmax temperature of SPEC section 3 (the paper's Figure 3
grid search at ProcMaze n=4, ButtonGrid b=4, PanFlute n=7), reused at every complexity."""

from omegaconf import OmegaConf

# (agent, env) -> {regime: (step_size, temperature)}
TUNED = {
    ("simple_model", "procmaze"): {"high_data": (2e-4, 0.8), "low_data": (2.5e-5, 0.4)},
    ("simple_model", "buttongrid"): {"high_data": (2e-4, 1.6), "low_data": (5e-5, 0.4)},
    ("simple_model", "panflute"): {"high_data": (1e-4, 0.4), "low_data": (2e-4, 0.2)},
    ("perfect_model", "procmaze"): {"high_data": (1e-4, 0.4), "low_data": (4e-4, 0.4)},
    ("perfect_model", "buttongrid"): {"high_data": (2e-4, 0.0125), "low_data": (2e-4, 0.0125)},
    ("perfect_model", "panflute"): {"high_data": (2e-4, 0.1), "low_data": (1e-4, 0.1)},
    ("er", "procmaze"): {"high_data": (5e-5, 0.1), "low_data": (2.5e-5, 1.6)},
    ("er", "buttongrid"): {"high_data": (5e-5, 0.0125), "low_data": (2.5e-5, 0.1)},
    ("er", "panflute"): {"high_data": (1e-4, 0.1), "low_data": (3.125e-6, 0.8)},
    ("categorical_latent", "procmaze"): {"high_data": (2e-4, 1.6), "low_data": (1e-4, 0.8)},
    ("categorical_latent", "buttongrid"): {"high_data": (1e-4, 0.05), "low_data": (2e-4, 0.1)},
    ("categorical_latent", "panflute"): {"high_data": (8e-4, 0.05), "low_data": (1.6e-3, 0.05)},
    ("gaussian_latent", "procmaze"): {"high_data": (3.125e-6, 12.8), "low_data": (3.125e-6, 0.8)},
    ("gaussian_latent", "buttongrid"): {"high_data": (1.25e-5, 0.1), "low_data": (2.5e-5, 0.8)},
    ("gaussian_latent", "panflute"): {"high_data": (2e-4, 0.1), "low_data": (2e-4, 0.1)},
}

# Where the paper tuned nothing: OpenGrid (Appendix C) is an episodic grid world like
# ProcMaze; dyna_mix is mostly the simple model, mpc learns as the simple model does, and
# deepmdp (beyond the paper, untuned) borrows the simple model's values.
ENV_FALLBACK = {"opengrid": "procmaze"}
AGENT_FALLBACK = {"dyna_mix": "simple_model", "mpc": "simple_model", "deepmdp": "simple_model"}


def read_tuned_file(path) -> dict:
    """A YAML file of `agent: env: regime: {step_size, temperature}` (as a grid search
    writes it), in the form of TUNED."""
    table = {}
    for agent, by_env in (OmegaConf.to_container(OmegaConf.load(path)) or {}).items():
        for env, by_regime in by_env.items():
            table[(agent, env)] = {
                regime: (float(v["step_size"]), float(v["temperature"]))
                for regime, v in by_regime.items()
            }
    return table


def tuned(agent: str, env: str, regime: str, extra: dict | None = None):
    """(step_size, temperature), or None when there is no tuned value for this triple.
    Entries of `extra` (from a tuned file) take precedence over the paper's."""
    for table in (extra or {}, TUNED):
        for key in ((agent, env), (AGENT_FALLBACK.get(agent, agent), ENV_FALLBACK.get(env, env))):
            if regime in table.get(key, {}):
                return table[key][regime]
    return None
