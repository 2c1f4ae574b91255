"""Ex 2.10.1: Ex 2.10 over 60 seeds. Two schedules (Ex 2.10's own and the refined
``ex-2.10.1-dopesheet.csv``) are swept over seeds, the best run is picked by a stated rule, and three
ways of deleting red from it (ablation, pruning, suppression) are compared.

The experiment is this folder and its notebook: the recipe is Ex 2.10's (`ex_color.experiments.ex_2_10`)
with each schedule, trained through the shared engine; `figures` shows the sweep (error against
similarity to red, the metrics' box plots and the results figure).
"""
