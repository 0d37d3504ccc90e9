"""Analysing finished runs: the claims and their judges, the figures, the Figure 4 model
analyses and the rliable aggregates. Nothing here trains an agent from scratch; each reads
results tables (and, for Figure 4, the models a run saved)."""
