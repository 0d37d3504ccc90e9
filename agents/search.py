"""Decision-time tree search through a learned model (Gumbel MuZero; Danihelka et al. 2022),
with DeepMind's mctx library: the `muzero` agent's planner (agents/implicit.py), beyond
the paper.

At every decision the search starts from the model's latent of the current observation and
expands nodes with the model's `transition` (reward, and discount x predicted continuation
as the edge's discount). Each node's prior is the agents' behaviour policy, the softmax of
the Q-network's values over the tuned temperature, and its value estimate is max_a Q at its
latent: the same Q-network that learns on the model's imagined rollouts, so search and
learning share one value (the model's own value head f, the value of the data's policy,
shapes the latent during training but does not score the search). Gumbel MuZero rather than
MuZero's PUCT because it improves the policy with few simulations (`num_simulations`, 8 by
default), considering every action at the root.

Behaving, the search draws Gumbel noise (gumbel_scale 1): its action is a sample, which is
how Gumbel MuZero explores. Evaluated (greedy), the noise is off and the search's action is
deterministic: the considered action with the highest prior logit plus transformed
completed Q-value. Its cost per env step is `num_simulations` model steps and Q-values,
acting and evaluating (scripts/benchmark.py).
"""

import jax
import jax.numpy as jnp
import mctx

from agents import dqn


def gumbel_muzero(num_simulations: int):
    """planner(q, model) -> act(state, obs, key, greedy), for agents.dyna.agent."""

    def planner(q: dqn.DQN, model):
        def act(state, obs, key, greedy):
            params = state.model.params
            start_key, search_key = jax.random.split(key)
            temperature = state.learner.hyper.temperature

            def estimates(x):
                """(prior logits, value) of latents x: Q's softmax and max."""
                q_values = q.q_values(state.learner, x)
                return q_values / temperature, q_values.max(axis=-1)

            def recurrent_fn(params, key, action, x):
                x_next, reward, continuation = model.transition(params, key, x, action)[:3]
                prior, value = estimates(x_next)
                output = mctx.RecurrentFnOutput(
                    reward=reward, discount=q.discount * continuation, prior_logits=prior,
                    value=value,
                )  # fmt: skip
                return output, x_next

            root_latent = model.start(params, start_key, obs[None])  # mctx searches a batch
            prior, value = estimates(root_latent)
            root = mctx.RootFnOutput(prior_logits=prior, value=value, embedding=root_latent)
            output = mctx.gumbel_muzero_policy(
                params, search_key, root, recurrent_fn, num_simulations,
                max_num_considered_actions=prior.shape[-1],
                gumbel_scale=0.0 if greedy else 1.0,
            )  # fmt: skip
            return output.action[0].astype(jnp.int32)

        return act

    return planner
