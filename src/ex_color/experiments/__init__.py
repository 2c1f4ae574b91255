"""Experiment configurations as library code, runnable as scripts (``python -m ex_color.experiments.ex_2_10``)."""
