"""Ex 2.10.2: a schedule search. Optuna proposes Ex 2.10 dopesheets, the engine trains each over a few
seeds in one run per batch, and the pick is checked against Ex 2.10's schedule on fresh seeds.

The experiment is this folder and its notebook: the recipe is Ex 2.10's (`ex_color.experiments.ex_2_10`)
with the searched dopesheet, and the search itself is the shared `ex_color.search`. Here: `report`
reads the verdict on fresh seeds from paired tests; `figures` shows the search's progress and its
Pareto front (`plot` draws them).
"""
