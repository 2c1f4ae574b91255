"""Evaluation of trained models: cube errors, test sets, similarity scores, sweep results and tables."""

from ex_color.evaluation.correlation import (
    Correlation,
    error_correlation,
    format_correlation,
    vibrancy_error_correlation,
)
from ex_color.evaluation.cube import evaluate_cube, named_color_errors, named_color_table
from ex_color.evaluation.named_table import TableColumns, named_error_table, table_columns
from ex_color.evaluation.pareto import pareto_front
from ex_color.evaluation.results import Result, results_to_dataframe
from ex_color.evaluation.scoring import EvaluationPlan, ScoreByHSVSimilarity
from ex_color.evaluation.similarity import hsv_similarity, hue_similarity
from ex_color.evaluation.table_render import hex_color, to_latex, to_markdown, to_styled_html
from ex_color.evaluation.test_set import TestSet, normalize_tags

__all__ = [
    'Correlation',
    'EvaluationPlan',
    'Result',
    'ScoreByHSVSimilarity',
    'TableColumns',
    'TestSet',
    'error_correlation',
    'evaluate_cube',
    'format_correlation',
    'hex_color',
    'hsv_similarity',
    'hue_similarity',
    'named_color_errors',
    'named_color_table',
    'named_error_table',
    'normalize_tags',
    'pareto_front',
    'results_to_dataframe',
    'table_columns',
    'to_latex',
    'to_markdown',
    'to_styled_html',
    'vibrancy_error_correlation',
]
