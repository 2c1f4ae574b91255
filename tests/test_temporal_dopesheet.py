"""Dopesheet: the project's CSVs, queries, rendering and one test per kind of bad input."""

import math
import subprocess
import sys
from pathlib import Path

import pytest

from mini.temporal import Dopesheet, DopesheetError, Frame, Keyframe, PropConfig

NOTEBOOKS = Path(__file__).resolve().parents[1] / 'notebooks'


@pytest.fixture(scope='module')
def ds() -> Dopesheet:
    return Dopesheet.from_csv(NOTEBOOKS / 'ex-2.10-dopesheet.csv')


# --- the project's dopesheets -----------------------------------------------------------------------


def test_ex_2_10_resolves(ds):
    # +10 after 0 → 10; +0.5 between anchors 0 and 750 → 375; +0.9 between 750 and 1500 → 750 + 675
    assert ds.steps == [0, 10, 375, 750, 1425, 1500]
    assert len(ds) == 1501
    assert ds.props == ['lr', 'reg-separate', 'reg-anchor', 'reg-anti-subspace']
    assert ds.phases == {'Train'}


def test_ex_2_9_resolves():
    ds = Dopesheet.from_csv(NOTEBOOKS / 'ex-2.9-dopesheet.csv')
    # +0.5 between 0 and 1000 → 500; +0.9 between 1000 and 3000 → 1000 + 1800 = 2800
    assert ds.steps == [0, 10, 500, 1000, 2800, 3000]
    assert len(ds) == 3001
    # The unused reg-planar-v column of the reference sheet was dropped on purpose.
    assert ds.props == ['lr', 'reg-separate', 'reg-anchor', 'reg-planar-d', 'reg-anti-anchor', 'reg-unit']


def test_ex_2_10_1_resolves():
    ds = Dopesheet.from_csv(NOTEBOOKS / 'ex-2.10.1-dopesheet.csv')
    # 0.33·750 = 247.5 → 248 (half up); 0.66·750 = 495; 750 + 0.5·750 = 1125; 750 + 0.9·750 = 1425
    assert ds.steps == [0, 10, 248, 495, 750, 1125, 1425, 1500]
    assert len(ds) == 1501
    assert ds[495].keyed_props == {} and ds[1125].keyed_props == {}


# --- queries ----------------------------------------------------------------------------------------


def test_initial_values_back_fill_first_key(ds):
    # reg-separate is first keyed at 750 (0.01) and starts there; the others are keyed at step 0.
    assert ds.get_initial_values() == {
        'lr': 1e-8,
        'reg-separate': 0.01,
        'reg-anchor': 0.0,
        'reg-anti-subspace': 0.25,
    }


def test_prop_config(tmp_path, ds):
    assert ds.get_prop_config('lr') == PropConfig('lr', 'linear', 'minjerk')
    path = tmp_path / 'h.csv'
    path.write_text('STEP,a,b:log,c::step-end,d:log:linear,e::step,f:linear:minjerk\n0,1,1,1,1,1,1\n')
    sheet = Dopesheet.from_csv(path)
    assert sheet.props == ['a', 'b', 'c', 'd', 'e', 'f']
    assert sheet.get_prop_config('b') == PropConfig('b', 'log', 'minjerk')
    assert sheet.get_prop_config('c') == PropConfig('c', 'linear', 'step-end')
    assert sheet.get_prop_config('d') == PropConfig('d', 'log', 'linear')
    assert sheet.get_prop_config('e').interpolator == 'step-end'  # alias normalised
    assert list(sheet.to_dict()) == ['a', 'b:log', 'c::step-end', 'd:log:linear', 'e::step-end', 'f']
    with pytest.raises(KeyError, match='nope'):
        sheet.get_prop_config('nope')


def test_frames(ds):
    first = ds[0]
    assert first == Frame(
        t=0,
        phase='Train',
        is_phase_start=True,
        is_phase_end=False,
        actions=[],
        keyed_props={
            'lr': Keyframe('lr', 0, 1e-8, 10, 0.01),
            'reg-anchor': Keyframe('reg-anchor', 0, 0.0, 750, 0.15),
            'reg-anti-subspace': Keyframe('reg-anti-subspace', 0, 0.25, 375, 0.1),
        },
    )
    assert first.keyed_props['reg-anchor'].duration == 750
    between = ds[100]
    assert (between.phase, between.is_phase_start, between.is_phase_end) == ('Train', False, False)
    assert between.actions == [] and between.keyed_props == {}
    last = ds[1500]
    assert (
        last.is_phase_end
        and last.keyed_props['lr'].next_t is None
        and last.keyed_props['lr'].duration is None
    )
    assert ds[1425].keyed_props['reg-separate'] == Keyframe('reg-separate', 1425, 0.0, None, None)
    for bad in (-1, 1501):
        with pytest.raises(IndexError):
            ds[bad]


def test_phases_actions_and_missing_phase(tmp_path):
    path = tmp_path / 'p.csv'
    path.write_text('STEP,PHASE,ACTION,x\n0,,,1\n2,Warm,"a,b",2\n5,Cool,c,3\n8,,,4\n')
    ds = Dopesheet.from_csv(path)
    assert ds.phases == {'Warm', 'Cool'}
    # Before the first PHASE the phase is '' (falsy), and step 1 ends that unnamed stretch.
    assert ds[0].phase == '' and not ds[0].is_phase_start and not ds[0].is_phase_end
    assert ds[1].is_phase_end
    assert (ds[2].phase, ds[2].is_phase_start, ds[2].actions) == ('Warm', True, ['a', 'b'])
    assert ds[4].is_phase_end and not ds[5].is_phase_end  # Cool starts at 5 → Warm ends at 4
    assert ds[5].actions == ['c'] and ds[6].actions == []
    assert ds[7].phase == 'Cool' and not ds[7].is_phase_end and ds[8].is_phase_end  # last step


def test_as_df(ds):
    df = ds.as_df()
    assert list(df.columns) == [
        'STEP',
        'PHASE',
        'ACTION',
        'lr',
        'reg-separate',
        'reg-anchor',
        'reg-anti-subspace',
    ]
    assert df['STEP'].dtype == 'int64' and df['STEP'].tolist() == [0, 10, 375, 750, 1425, 1500]
    assert df['PHASE'].iloc[0] == 'Train' and math.isnan(df['PHASE'].iloc[1])
    assert df['ACTION'].isna().all()
    assert df['reg-separate'].isna().tolist() == [True, True, True, False, False, True]


def test_to_markdown_matches_reference(ds):
    expected = (
        '|   STEP | PHASE   |   ACTION |      lr |   reg-separate |   reg-anchor |   reg-anti-subspace |\n'
        '|-------:|:--------|---------:|--------:|---------------:|-------------:|--------------------:|\n'
        '|      0 | Train   |          |   1e-08 |                |         0    |                0.25 |\n'
        '|     10 |         |          |   0.01  |                |              |                     |\n'
        '|    375 |         |          |         |                |              |                0.1  |\n'
        '|    750 |         |          |   0.1   |           0.01 |         0.15 |                0.03 |\n'
        '|   1425 |         |          |   0.1   |           0    |         0    |                0    |\n'
        '|   1500 |         |          |   0.05  |                |              |                     |'
    )
    assert ds.to_markdown() == expected


def test_to_dict(ds):
    assert ds.to_dict() == {
        'lr': {0: 1e-8, 10: 0.01, 750: 0.1, 1425: 0.1, 1500: 0.05},
        'reg-separate': {750: 0.01, 1425: 0.0},
        'reg-anchor': {0: 0.0, 750: 0.15, 1425: 0.0},
        'reg-anti-subspace': {0: 0.25, 375: 0.1, 750: 0.03, 1425: 0.0},
    }


def test_styled_renders(ds):
    html = ds.styled().to_html()
    assert 'nowrap' in html and '1e-08' in html and 'nan' not in html


def test_import_does_not_pull_in_matplotlib():
    # A fresh interpreter, since other tests in the session may import matplotlib themselves.
    code = 'import sys, mini.temporal; print("matplotlib" in sys.modules)'
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == 'False'


# --- bad input: every error names file, line and column ----------------------------------------------

HEADER = 'STEP,PHASE,ACTION,lr,w'


@pytest.mark.parametrize(
    ('text', 'line', 'column', 'fragment'),
    [
        (f'{HEADER}\n0,,,1,1\nabc,,,2,2\n', 3, 'STEP', 'invalid step'),
        (f'{HEADER}\n0,,,1,1\n+1.5,,,2,2\n10,,,3,3\n', 3, 'STEP', 'strictly between 0 and 1'),
        (f'{HEADER}\n+5,,,1,1\n10,,,2,2\n', 2, 'STEP', 'no absolute step before'),
        (f'{HEADER}\n0,,,1,1\n-5,,,2,2\n', 3, 'STEP', 'no absolute step after'),
        (f'{HEADER}\n0,,,1,1\n10,,,2,2\n-10,,,3,3\n20,,,4,4\n', 4, 'STEP', 'already used on line 3'),
        (f'{HEADER}\n0,,,1,1\n-5,,,2,2\n3,,,3,3\n', 3, 'STEP', 'negative'),
        ('STEP,lr::cubic\n0,1\n', 1, 'lr::cubic', 'unknown interpolator'),
        ('STEP,lr:exp\n0,1\n', 1, 'lr:exp', 'unknown space'),
        (f'{HEADER}\n0,,,1,1\n10,,,abc,2\n', 3, 'lr', 'not a number'),
        (f'{HEADER}\n0,,,1,1\n10,,,inf,2\n', 3, 'lr', 'not a finite number'),
        ('PHASE,lr\nTrain,1\n', 1, 'STEP', 'no STEP column'),
        ('STEP,lr:log:minjerk:x\n0,1\n', 1, 'lr:log:minjerk:x', 'colons'),
        ('STEP,lr,lr:log\n0,1,1\n', 1, 'lr:log', 'duplicate column'),
        ('STEP,STEP,lr\n0,0,1\n', 1, 'STEP', 'duplicate column'),
        ('STEP,:log\n0,1\n', 1, ':log', 'empty property name'),
        ('STEP,PHASE:log\n0,1\n', 1, 'PHASE:log', 'reserved'),
        (f'{HEADER}\n0,,,1\n', 2, 'w', 'cells'),
        (f'{HEADER}\n0,,,1,1,1\n', 2, 'w', 'cells'),
        (f'{HEADER}\n0,,,1,\n10,,,2,\n', 1, 'w', 'no values'),
        ('', 1, 'STEP', 'no header'),
        (f'{HEADER}\n', 1, 'STEP', 'no rows'),
        ('STEP, lr\n0,1\n10,2\n', 1, ' lr', 'leading or trailing whitespace'),
        ('STEP,lr \n0,1\n10,2\n', 1, 'lr ', 'leading or trailing whitespace'),
        ('STEP;lr\n0;1\n10;2\n', 1, 'STEP;lr', 'semicolon-delimited'),
        ('STEP\tlr\n0\t1\n10\t2\n', 1, 'STEP\tlr', 'tab-delimited'),
        ('STEP,lr\n0,1\n100000000,2\n', 3, 'STEP', 'beyond the limit of 1,000,000 steps'),
        ('STEP,lr\n0,1\n1000000000000,2\n', 3, 'STEP', 'beyond the limit'),
        ('STEP,lr\n0,1\n999999,2\n+10,3\n', 4, 'STEP', 'resolves to 1000009, beyond the limit'),
        ('STEP,lr:log\n0,1e-8\n10,0\n', 3, 'lr:log', 'not positive'),
        ('STEP,lr:log\n0,1e-8\n10,-0.5\n', 3, 'lr:log', 'not positive'),
    ],
)
def test_bad_input_names_file_line_and_column(tmp_path, text, line, column, fragment):
    path = tmp_path / 'bad-sheet.csv'
    path.write_text(text)
    with pytest.raises(ValueError) as info:
        Dopesheet.from_csv(path)
    message = str(info.value)
    assert str(path) in message
    assert f'line {line},' in message
    assert repr(column) in message
    assert fragment in message
    assert isinstance(info.value, DopesheetError)
    assert (info.value.line, info.value.column) == (line, column)


def test_blank_lines_are_skipped_and_counted(tmp_path):
    path = tmp_path / 'blank.csv'
    path.write_text('STEP,x\n\n0,1\n\nzz,2\n')
    with pytest.raises(ValueError, match='line 5,'):
        Dopesheet.from_csv(path)


def test_a_file_that_is_not_utf8_is_refused_naming_file_line_and_column(tmp_path):
    path = tmp_path / 'latin.csv'
    path.write_bytes('STEP,lr\n0,1\n10,2é\n'.encode('latin-1'))
    with pytest.raises(DopesheetError, match=r"latin\.csv, line 3, column 'lr': byte 0xe9 is not UTF-8"):
        Dopesheet.from_csv(path)


def test_a_utf8_bom_is_accepted_and_an_open_text_file_reads_like_a_path(tmp_path):
    import io

    path = tmp_path / 'bom.csv'
    path.write_bytes('\ufeffSTEP,lr\n0,1\n10,2\n'.encode())
    from_path = Dopesheet.from_csv(path)
    with path.open(encoding='utf-8') as f:
        from_file = Dopesheet.from_csv(f)
    assert from_path.props == from_file.props == ['lr']
    assert (
        from_path.to_dict()
        == from_file.to_dict()
        == Dopesheet.from_csv(io.StringIO('STEP,lr\n0,1\n10,2\n')).to_dict()
    )
    assert from_file.source == str(path)
    with path.open('rb') as f, pytest.raises(TypeError, match='binary mode'):
        Dopesheet.from_csv(f)
