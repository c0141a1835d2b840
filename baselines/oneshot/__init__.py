"""One-shot methods: they search once (a weight-sharing supernet) and return architectures, not ask/tell trials.

``suite.oneshot.record_oneshot`` records their output as a run, so the analysis compares them with the
black-box baselines at equal cost (docs/results.md). They are not in the baseline registry.
"""
