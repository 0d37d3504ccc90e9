"""One place per name: every registered agent has a display name, tuned values (its own or
borrowed) and a golden run, and every environment a display name and an axis label, so that a
new agent or environment cannot reach a figure, a table or a refactor's check half-declared."""

import sys

import pytest

import agents
import envs
from experiments import tuned

sys.path.insert(0, "scripts")
import golden  # noqa: E402

REGIMES = ("high_data", "low_data")
PAPER_ENVS = ("procmaze", "buttongrid", "panflute")  # the ones the paper tuned


@pytest.mark.parametrize("name", sorted(agents.REGISTRY))
def test_every_registered_agent_has_a_display_name(name):
    assert agents.display(name).strip()


def test_no_two_agents_share_a_display_name():
    assert len(set(agents.DISPLAY.values())) == len(agents.DISPLAY)


@pytest.mark.parametrize("name", sorted(agents.REGISTRY))
def test_every_registered_agent_has_tuned_values_or_borrows_an_agents_that_has(name):
    """configs/tuned.yaml: under `tuned:` for each tuned env and regime, or named under
    `borrowed: agents:` with an agent that is."""
    source = tuned.AGENT_FALLBACK.get(name, name)
    assert source in agents.REGISTRY, f"{name} borrows the values of {source}, no agent"
    missing = [(env, regime) for env in PAPER_ENVS for regime in REGIMES
               if regime not in tuned.TUNED.get((source, env), {})]  # fmt: skip
    assert not missing, f"configs/tuned.yaml has no values for {name} ({source}): {missing}"
    for env in envs.NAMES:
        for regime in REGIMES:
            assert tuned.tuned(name, env, regime) is not None, (name, env, regime)


def test_a_borrowed_entry_names_a_registered_agent_or_env():
    assert set(tuned.AGENT_FALLBACK) <= set(agents.REGISTRY)
    assert set(tuned.ENV_FALLBACK) <= set(envs.NAMES)
    assert {agent for agent, _ in tuned.TUNED} <= set(agents.REGISTRY)


@pytest.mark.parametrize("name", sorted(agents.REGISTRY))
def test_every_registered_agent_has_a_golden_run(name):
    """scripts/golden.py RUNS: one run at least that chooses the agent."""
    assert any(f"agent={name}" in overrides for overrides in golden.RUNS.values()), (
        f"scripts/golden.py has no run of agent {name}"
    )


@pytest.mark.parametrize("name", envs.NAMES)
def test_every_environment_has_a_display_name_and_an_axis_label(name):
    env = envs.REGISTRY[name]
    assert envs.display(name) == env.display and env.display.strip()
    assert envs.complexity_label(name) == env.complexity_label
    assert env.complexity_label.replace(" ", "_") in env.complexity_key


def test_an_unknown_environment_has_no_display_name():
    with pytest.raises(ValueError, match="env.name must be one of procmaze"):
        envs.display("atari")


def test_every_offline_agent_and_coverage_of_figure1_has_a_display_name():
    """experiments/offline/report.py names what Figure 1, the tables and the studies show."""
    from envs import gridworld
    from experiments.offline import report, training

    assert set(training.AGENTS) <= set(report.AGENT_DISPLAY)
    assert set(gridworld.COVERAGES) == set(report.COVERAGE_DISPLAY)
