"""Spies that record, while one update is traced (jax.eval_shape: nothing compiles), what
an agent trains on: the sizes are static, so tracing is enough."""

import jax
import jax.numpy as jnp

import envs
from agents import dqn, dyna, models, perfect_model, replay
from agents.base import Transition

HYPER = dqn.Hyper(jnp.float32(1e-3), jnp.float32(1.0))


def one_update(monkeypatch, agent):
    """What one update of `agent` (after observing one ProcMaze transition) trains on: the Q
    batch's rows and discount, the rows of real transitions, each rollout's (steps, starts,
    rows), each model step's batch rows and the size of each draw from the buffer."""
    env = envs.make("procmaze", grid_size=3)  # as SMALL
    seen = {"q_rows": [], "discount": [], "real_rows": [], "rollouts": [], "model_rows": [],
            "draws": []}
    learn, real_batch, train_step, draw = (
        dqn.DQN.learn, dqn.real_batch, models.train_step, replay.sample_indices)

    def spy_learn(self, learner, batch):
        rows = {x.shape[0] for x in jax.tree.leaves(batch)}
        assert len(rows) == 1, f"the batch's fields disagree on its rows: {rows}"
        seen["q_rows"].append(rows.pop())
        seen["discount"].append(self.discount)
        return learn(self, learner, batch)

    def spy_real_batch(transitions):
        seen["real_rows"].append(transitions.obs.shape[0])
        return real_batch(transitions)

    def spy_rollout(rollout):
        def spied(key, q, learner, start, features, transition, length, *args, **kwargs):
            batch = rollout(key, q, learner, start, features, transition, length, *args, **kwargs)
            starts = jax.tree.leaves(start)[0].shape[0]
            seen["rollouts"].append((length, starts, batch.obs.shape[0]))
            return batch

        return spied

    def spy_draw(memory, key, size):
        seen["draws"].append(size)
        return draw(memory, key, size)

    def spy_train_step(trained, loss, step_size, key, data, **hooks):
        seen["model_rows"].append(jax.tree.leaves(data)[0].shape[0])
        return train_step(trained, loss, step_size, key, data, **hooks)

    monkeypatch.setattr(dqn.DQN, "learn", spy_learn)
    monkeypatch.setattr(dqn, "real_batch", spy_real_batch)
    monkeypatch.setattr(models, "train_step", spy_train_step)
    monkeypatch.setattr(replay, "sample_indices", spy_draw)
    monkeypatch.setattr(dyna, "rollout", spy_rollout(dyna.rollout))
    monkeypatch.setattr(perfect_model, "rollout", spy_rollout(perfect_model.rollout))

    def update():
        state = agent.init(jax.random.key(0), HYPER)
        env_state, obs = env.reset(jax.random.key(1))
        action = jnp.int32(0)
        _, next_obs, reward, terminal = env.step(jax.random.key(2), env_state, action)
        transition = Transition(obs, action, reward, terminal, next_obs, env_state)
        return agent.update(agent.observe(state, transition), jax.random.key(3))

    jax.eval_shape(update)
    return seen
