"""Result validation and results_to_dataframe columns (union of summary keys, first seen, NaN if missing)."""

import math
from typing import Any, cast

import pytest

from ex_color.evaluation import Result, results_to_dataframe


def test_columns_rows_and_missing_values():
    runs = [
        Result(0, 'ckpt/0', 'https://wandb/0', {'val_recon': 0.1, 'train_loss': 9.0, '_runtime': 50.0}, 0.8),
        Result(
            1,
            'ckpt/1',
            'https://wandb/1',
            {'labels/n/red': 60, '_runtime': 70.0, 'val_anchor': 0.02, 'labels/p/red': 0.1, 'epoch': 3},
            0.5,
        ),
    ]
    df = results_to_dataframe(runs)
    # Fixed columns, then metric keys in first-seen order over all runs; train_loss, labels/p/…, epoch
    # are not summary metrics.
    assert list(df.columns) == [
        'seed',
        'wandb url',
        'score',
        'val_recon',
        '_runtime',
        'labels/n/red',
        'val_anchor',
    ]
    assert df['seed'].tolist() == [0, 1]
    assert df['wandb url'].tolist() == ['https://wandb/0', 'https://wandb/1']
    assert df['score'].tolist() == [0.8, 0.5]
    assert df['_runtime'].tolist() == [50.0, 70.0]
    assert math.isnan(df['val_recon'][1])
    assert math.isnan(df['labels/n/red'][0])
    assert df['labels/n/red'][1] == 60


def test_empty():
    assert list(results_to_dataframe([]).columns) == ['seed', 'wandb url', 'score']


def test_result_validation():
    # Deliberately wrong types (cast to Any): the run-time checks are under test.
    with pytest.raises(TypeError, match='seed'):
        Result(cast(Any, '0'), 'k', 'u', {}, 0.5)
    with pytest.raises(TypeError, match='summary'):
        Result(0, 'k', 'u', cast(Any, [('val_recon', 1.0)]), 0.5)
    with pytest.raises(TypeError, match='score'):
        Result(0, 'k', 'u', {}, cast(Any, None))
    with pytest.raises(TypeError, match=r'results\[1\]'):
        results_to_dataframe([Result(0, 'k', 'u', {}, 0.5), cast(Any, {'seed': 1})])


def test_summary_is_copied():
    summary = {'val_recon': 0.1}
    result = Result(0, 'k', 'u', summary, 0.5)
    summary['val_recon'] = 99.0
    assert results_to_dataframe([result]).loc[0, 'val_recon'] == 0.1
