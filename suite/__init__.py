"""Runs baselines on tasks: the run loop and its clocks, the result store, the suite grid and its dispatch."""
