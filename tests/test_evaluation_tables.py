"""Per-colour error table: structure, deltas, and the HTML / Markdown / LaTeX renderers."""

import numpy as np
import pandas as pd
import pytest

from ex_color.data import ColorCube
from ex_color.evaluation import (
    TestSet,
    hex_color,
    named_error_table,
    table_columns,
    to_latex,
    to_markdown,
    to_styled_html,
)


def fake_evaluated(tags, mse) -> TestSet:
    """A TestSet with three named colours and given MSEs (cubes are irrelevant to the table)."""
    cube = ColorCube.from_rgb([0.0, 1.0], [0.0, 1.0], [0.0, 1.0])
    table = pd.DataFrame(
        {
            'name': ['red', 'gray', 'white'],
            'hsv': [(0.0, 1.0, 1.0), (0.0, 0.0, 0.5), (0.0, 0.0, 1.0)],
            'rgb': [(1.0, 0.0, 0.0), (0.5, 0.5, 0.5), (1.0, 1.0, 1.0)],
            'MSE': mse,
        }
    )
    return TestSet(tuple(tags), cube, cube, cube, table)


@pytest.fixture
def table() -> pd.DataFrame:
    baseline = fake_evaluated(['baseline run'], [0.001, 0.002, 0.003])
    ablated = fake_evaluated(['ablated'], [0.101, 0.002, 0.0025])
    pruned = fake_evaluated(['pruned'], [0.101, 0.002, 0.0025])
    return named_error_table(baseline, ablated, pruned)


def test_structure_and_deltas(table):
    assert list(table.columns) == [
        'name',
        'rgb',
        'hsv',
        'baseline',
        'ablated',
        'ablated-delta',
        'pruned',
        'pruned-delta',
    ]
    assert table['name'].tolist() == ['red', 'gray', 'white']
    # delta = result − baseline: 0.101 − 0.001 = 0.1; 0.002 − 0.002 = 0; 0.0025 − 0.003 = −0.0005.
    np.testing.assert_allclose(table['ablated-delta'], [0.1, 0.0, -0.0005], atol=1e-12)
    assert table_columns(table).results == ['ablated', 'pruned']


def test_multi_tag_column_keeps_tag_order():
    baseline = fake_evaluated(['x'], [0.1, 0.1, 0.1])
    result = fake_evaluated(['suppressed', 'no subspace'], [0.2, 0.1, 0.1])
    assert 'suppressed no subspace-delta' in named_error_table(baseline, result).columns


def test_rejections():
    baseline = fake_evaluated(['x'], [0.1, 0.1, 0.1])
    with pytest.raises(ValueError, match='no tags'):
        named_error_table(baseline, fake_evaluated([], [0.1, 0.1, 0.1]))
    with pytest.raises(ValueError, match='already exists'):
        named_error_table(baseline, fake_evaluated(['a'], [0.1] * 3), fake_evaluated(['a'], [0.1] * 3))
    renamed = fake_evaluated(['a'], [0.1] * 3)
    renamed.named_colors.loc[1, 'name'] = 'grey'
    with pytest.raises(ValueError, match=r"missing \['gray'\], extra \['grey'\]"):
        named_error_table(baseline, renamed)
    unevaluated = TestSet.create(['y'])
    with pytest.raises(ValueError, match='not been evaluated'):
        named_error_table(unevaluated)


def test_hex_rounds_instead_of_truncating():
    # 0.5·255 = 127.5 → rounds to 128 = 0x80 (truncation would give 0x7f).
    assert hex_color((0.5, 0.5, 0.5)) == '808080'
    # 0.25·255 = 63.75 → 64 = 0x40; 1 → 255 = 0xff; 0 → 0x00.
    assert hex_color((0.25, 1.0, 0.0)) == '40ff00'
    with pytest.raises(ValueError):
        hex_color((1.2, 0.0, 0.0))


def test_html(table):
    out = to_styled_html(table)
    for header in ('>RGB<', '>Baseline<', '>Ablated<', '>Δ Ablated<', '>Pruned<', '>Δ Pruned<'):
        assert header in out
    assert 'background-color: #808080' in out
    assert '#7f7f7f' not in out
    assert '>0.101<' in out and '>+0.100<' in out and '>-0.001<' in out  # −0.0005 → '-0.001' at .3f
    assert '(0.0, 0.0, 0.5)' not in out  # the hsv column is hidden


def test_markdown(table):
    lines = to_markdown(table).splitlines()
    assert lines[0] == '| Name | RGB | Baseline | Ablated | Δ Ablated | Pruned | Δ Pruned |'
    assert lines[2] == '| red | #ff0000 | 0.001 | 0.101 | +0.100 | 0.101 | +0.100 |'
    assert lines[3] == '| gray | #808080 | 0.002 | 0.002 | +0.000 | 0.002 | +0.000 |'


def test_latex(table):
    out = to_latex(table, caption='Per-colour error', label='tab:errors')
    assert out.startswith('\\begin{table}') and out.endswith('\\end{table}')
    assert '\\caption{Per-colour error}' in out and '\\label{tab:errors}' in out
    for rule in ('\\toprule', '\\midrule', '\\bottomrule', '\\cmidrule(lr){4-5}'):
        assert rule in out
    # Full names, not character-set-stripped ('Ab', 'Prun').
    assert '{Colour} &  & {Baseline} & {Ablated} & {Pruned} \\\\' in out
    # Baseline, then only the deltas (ablated, pruned); siunitx rounds the six decimals to three.
    assert 'Gray & \\swatch{808080} & 0.002000 & 0.000000 & 0.000000 \\\\' in out
    assert 'Red & \\swatch{FF0000} & 0.001000 & 0.100000 & 0.100000 \\\\' in out
    with pytest.raises(ValueError, match='label'):
        to_latex(table, caption='x', label='two words')


def test_latex_escapes_names():
    baseline = fake_evaluated(['x'], [0.1, 0.1, 0.1])
    out = to_latex(named_error_table(baseline, fake_evaluated(['50%_off'], [0.1] * 3)), 'c', 'tab:e')
    assert '{50\\%\\_off}' in out
