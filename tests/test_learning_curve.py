"""The learning-curve figure every run writes (experiments/analysis/figures.py): a line per
seed beside the mean, and the band is the mean's 95% t interval, said so in the legend."""

import numpy as np
import pandas as pd

from experiments.analysis import figures


def test_each_seed_is_drawn_and_the_band_is_the_means_interval():
    # Two seeds at 1 and 3 at both evaluations: mean 2, half-width t(1) x sd / sqrt(2) =
    # 12.706 x 1.414 / 1.414 = 12.706.
    metrics = pd.DataFrame(dict(member=[0, 0, 1, 1], step=[100, 200, 100, 200],
                                score=[1.0, 1.0, 3.0, 3.0], diverged=False))  # fmt: skip
    figure = figures.learning_curve(metrics, "a run (step size 0.0001)", baseline=0.5)
    ax = figure.axes[0]
    lines = {tuple(line.get_ydata()) for line in ax.get_lines()}
    assert {(1.0, 1.0), (3.0, 3.0), (2.0, 2.0)} <= lines  # each seed, and the mean
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert np.isclose(band.max(), 2 + 12.706, atol=1e-3)
    assert np.isclose(band.min(), 2 - 12.706, atol=1e-3)
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["mean of 2 seeds; band: its 95% interval", "each seed",
                      "uniform random policy"]  # fmt: skip
    figures.close(figure)
