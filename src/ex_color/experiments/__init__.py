"""Experiment configurations as library code: one folder per experiment (`registry` lists them).

Ex 2.10 also runs as a script (``python -m ex_color.experiments.ex_2_10``).
"""
