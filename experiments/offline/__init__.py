"""The offline 3x3 grid world of paper section 2 (Figure 1; SPEC section 1).

Three agents learn from a fixed dataset (the basic set plus one coverage level of the two
evaluation layouts):

- `dqn`: the DQN learner on 320 dataset transitions per update, sampled uniformly with
  replacement;
- `model_1step` / `model_10step`: the simple model is trained on the dataset first (32
  transitions per model step, sampled uniformly with replacement), then frozen; the DQN
  learner trains on its rollouts, 320 starts x 1 step or 32 starts x 10 steps per update,
  started from observations of dataset transitions sampled the same way.

After every chunk of steps we record the Q-values of every action in every open non-goal
cell of both evaluation layouts (their argmax is the greedy action the Figure 1 metric
reads) or the model's predictions on every evaluation-layout transition; the last ones are
the result, the earlier ones show whether it had settled.

Issue 13: `offline.learner` picks the function class of Q and the model (learners.py:
network, linear, tabular), and `offline.gps` / `offline.distractors` append bits to every
observation (envs/gridworld.py `Variant`); `deepmdp_1step` / `deepmdp_10step` learn Q on
the latent rollouts of a DeepMDP trained on the same dataset (network learner only).

dataset.py: the datasets as replay buffers and the evaluation probes; learners.py: the
function classes (`LEARNERS`); training.py: the phases and a whole run (`run`, the agents
tables `AGENTS`, `LATENT_AGENTS`); report.py: the rows and the tidy tables of a run
directory (`tables`, `summarize`, `outcome_grid`); prediction.py: the paper's prediction of
each outcome (`PAPER_PREDICTION`). Importing the package imports none of them: the claims
read prediction.py without starting JAX.
"""
