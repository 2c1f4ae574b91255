"""The README's experiment table is the notebooks' own results: generated, checked, never typed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ex_color.experiments.readme import END, START, main, read_results, update_readme
from ex_color.experiments.report import RESULTS_MIME
from utils.paths import project_root

ROOT = project_root()


def test_the_committed_readme_matches_the_committed_notebooks():
    notebooks = sorted((ROOT / 'notebooks').glob('*.ipynb'))
    assert update_readme(ROOT / 'README.md', notebooks, check=True), 'run ./go results'


def test_without_notebooks_the_command_reads_the_registrys(capsys):
    assert main([str(ROOT / 'README.md'), '--check']) == 0, 'run ./go results'
    assert 'results table unchanged' in capsys.readouterr().out


def notebook(path: Path, record: dict | None) -> Path:
    outputs = (
        []
        if record is None
        else [
            {'output_type': 'display_data', 'metadata': {}, 'data': {RESULTS_MIME: record, 'text/plain': 'r'}}
        ]
    )
    cell = {'cell_type': 'code', 'source': '', 'metadata': {}, 'execution_count': 1, 'outputs': outputs}
    path.write_text(json.dumps({'cells': [cell], 'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5}))
    return path


def record(nbid: str, red: float) -> dict:
    quartiles = {m: [0.5 * red, red, 1.5 * red] for m in ('red', 'median', 'worst_gcb', 'r')}
    medians = {m: [red, 0.8 * red, 1.2 * red] for m in ('red', 'median', 'worst_gcb', 'r')}
    return {
        'nbid': nbid,
        'title': f'Ex {nbid}',
        'description': 'd',
        'seeds': 20,
        'passed': 17,
        'pass_interval': [0.64, 0.95],
        'medians': medians,
        'quartiles': quartiles,
        'claims': [],
        'environment': {'cpu': 'x'},
    }


def test_the_table_is_rewritten_from_the_records_and_check_changes_nothing(tmp_path, capsys):
    (tmp_path / 'notebooks').mkdir()
    a = notebook(tmp_path / 'notebooks' / 'a.ipynb', record('2.10', 0.4))
    b = notebook(tmp_path / 'notebooks' / 'b.ipynb', record('2.9', 0.3))
    none = notebook(tmp_path / 'notebooks' / 'c.ipynb', None)  # a notebook without a record is skipped
    readme = tmp_path / 'README.md'
    readme.write_text(f'# Title\n\n{START}\n| stale |\n{END}\n\nAfter.\n')
    before = readme.read_text()
    assert main([str(readme), str(a), str(b), str(none), '--check']) == 1
    assert readme.read_text() == before
    assert 'run ./go results' in capsys.readouterr().err
    assert main([str(readme), str(a), str(b), str(none)]) == 0
    text = readme.read_text()
    assert text.startswith('# Title\n\n') and text.endswith(f'{END}\n\nAfter.\n') and '| stale |' not in text
    rows = [line for line in text.splitlines() if line.startswith('| [Ex')]
    # each row: n, the pass rate with its interval, then each median with its interval
    assert rows[0].startswith(
        '| [Ex 2.9](notebooks/b.ipynb) | d | 20 | 17/20 = 85% [64%, 95%] | 0.3 [0.24, 0.36] |'
    )  # 2.9 before 2.10
    assert rows[1].startswith(
        '| [Ex 2.10](notebooks/a.ipynb) | d | 20 | 17/20 = 85% [64%, 95%] | 0.4 [0.32, 0.48] |'
    )
    assert update_readme(readme, [a, b], check=True)


def test_a_readme_without_its_block_or_a_notebook_with_two_records_is_refused(tmp_path):
    readme = tmp_path / 'README.md'
    readme.write_text('# no block\n')
    nb = notebook(tmp_path / 'a.ipynb', record('2.10', 0.4))
    with pytest.raises(ValueError, match='README.md: needs exactly one results block'):
        update_readme(readme, [nb])
    data = json.loads(nb.read_text())
    data['cells'].append(data['cells'][0])
    nb.write_text(json.dumps(data))
    with pytest.raises(ValueError, match='a.ipynb: 2 results records'):
        read_results(nb)


@pytest.mark.parametrize(
    ('damage', 'named'),
    [
        (lambda r: r.pop('quartiles'), r"no 'quartiles' field"),
        (lambda r: r.pop('title'), r"no 'title' field"),
        (lambda r: r['quartiles'].pop('worst_gcb'), r"'quartiles' has no 'worst_gcb'"),
        (lambda r: r['medians'].update(red=[0.1, 0.2]), r"medians\['red'\] must be 3 numbers"),
        (lambda r: r.update(pass_interval=[0.5]), r'pass_interval must be 2 numbers'),
        (lambda r: r['claims'].append({'kind': 'paired'}), r"claim 0 has no \['a', 'b'"),
        (lambda r: r.update(nbid='two.ten'), r"'nbid' must be a dotted number"),
        (lambda r: r.update(seeds='20'), r"'seeds' must be an int"),
    ],
)
def test_a_malformed_results_record_is_an_error_that_names_the_notebook_and_the_field(
    tmp_path, damage, named
):
    readme = tmp_path / 'README.md'
    readme.write_text(f'# Title\n\n{START}\n| stale |\n{END}\n')
    good = notebook(tmp_path / 'good.ipynb', record('2.9', 0.3))
    broken = record('2.10', 0.4)
    damage(broken)
    bad = notebook(tmp_path / 'bad.ipynb', broken)
    with pytest.raises(ValueError, match=rf'bad\.ipynb: results record: {named}'):
        update_readme(readme, [good, bad])
    assert '| stale |' in readme.read_text(), 'nothing is rewritten'


def test_each_metric_column_of_the_readme_table_uses_one_notation():
    import re

    from ex_color.evaluation.numbers import column_format

    text = (project_root() / 'README.md').read_text(encoding='utf-8')
    block = text.split('<!-- results:', 1)[1].split('<!-- /results -->', 1)[0]
    rows = [r.split(' | ') for r in block.splitlines() if r.startswith('| [Ex')]
    assert rows
    for col in range(4, len(rows[0])):
        numbers = [n for r in rows for n in re.findall(r'-?\d[\d.]*(?:e[-+]\d+)?', r[col])]
        kinds = {'e' in n for n in numbers}
        assert len(kinds) == 1, f'column {col} mixes notations: {numbers}'
    assert column_format([0.36, 0.00014])(0.00014) == '0.00014'  # no value below 1e-4: g as it is
    fmt = column_format([0.00014, 8.8e-05])
    assert [fmt(0.00014), fmt(8.8e-05), fmt(0.011)] == ['1.4e-04', '8.8e-05', '1.1e-02']
