"""Every comparative claim a committed notebook makes carries its interval and corrected test, rendered beside it.

The results record (`report.publish_results(claims=...)`) lists the notebook's comparisons with the
statistics behind each sentence. `claim_problems` reads the records, not the prose: each claim must
have an interval around its estimate and a Holm-corrected p, its direction must be one that both
the corrected p and the interval allow, and its sentence, with those numbers in it, must be rendered in the notebook's
outputs; any rendered comparison sentence must be one of the recorded claims.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from ex_color.evaluation.claims import ALPHA
from ex_color.experiments.readme import read_results
from ex_color.experiments.registry import EXPERIMENTS
from ex_color.experiments.report import RESULTS_MIME
from tests.training_helpers import NOTEBOOKS

SENTENCE = re.compile(
    r'^- (.+?(?:cannot be told apart at n = \d+|is (?:higher|lower)(?: \((?:better|worse)\))? with) .+Holm p = [^)]+\)\.)$',
    re.M,
)
"""A rendered comparison sentence (`report.claim_sentence`), as a bullet."""


def rendered_markdown(notebook: Path) -> str:
    cells = json.loads(notebook.read_text())['cells']
    return '\n'.join(
        ''.join(out['data']['text/markdown'])
        if isinstance(out['data']['text/markdown'], list)
        else out['data']['text/markdown']
        for cell in cells
        for out in cell.get('outputs', [])
        if 'text/markdown' in out.get('data', {})
    )


def claim_problems(notebook: Path) -> list[str]:
    """What is wrong with the claims `notebook` records and renders (empty: nothing)."""
    record = read_results(notebook)
    if record is None:
        return []
    text = rendered_markdown(notebook)
    problems = []
    for i, c in enumerate(record['claims']):
        where = f'claim {i} ({c["metric"]}: {c["b"]} against {c["a"]})'
        value, low, high = c['change']
        # a zero-width interval is only honest beside "cannot be told apart" (e.g. both sides censored
        # at the same budget on most seeds); a direction needs an interval that excludes no change
        degenerate = low == high == value and c['verdict'] != 'not distinguishable'
        if not low - 1e-12 <= value <= high + 1e-12 or degenerate:
            problems.append(f'{where}: no interval around its estimate ({low}, {value}, {high})')
        if not (0 <= c['p'] <= 1 and c['p_holm'] is not None and c['p'] <= c['p_holm'] <= 1):
            problems.append(
                f'{where}: p {c["p"]} without a Holm-corrected p at least as large ({c["p_holm"]})'
            )
            continue
        neutral = 1.0 if c['scale'] == 'ratio' else 0.0
        unclear = c['p_holm'] >= ALPHA or low <= neutral <= high
        allowed = 'not distinguishable' if unclear else ('higher' if value > neutral else 'lower')
        if c['verdict'] != allowed:
            problems.append(f'{where}: says {c["verdict"]!r} where its corrected test allows {allowed!r}')
        if c['text'] not in text:
            problems.append(f'{where}: its sentence is not rendered in the notebook')
        if f'n = {c["n"]}' not in c['text'] or 'Holm p = ' not in c['text'] or '[' not in c['text']:
            problems.append(f'{where}: its sentence lacks its n, interval or corrected test: {c["text"]!r}')
    recorded = {c['text'] for c in record['claims']}
    for match in SENTENCE.finditer(text):
        if match.group(1) not in recorded:
            problems.append(
                f'a comparison is rendered that the results record does not hold: {match.group(1)[:90]!r}'
            )
    return problems


@pytest.mark.parametrize('entry', EXPERIMENTS, ids=[e.id for e in EXPERIMENTS])
def test_every_committed_comparison_has_its_interval_and_corrected_test_beside_it(entry):
    assert claim_problems(NOTEBOOKS / entry.notebook) == []


def test_ex_2_10_records_its_unitarity_and_schedule_comparisons():
    record = read_results(NOTEBOOKS / 'ex-2.10-delete-only-red-5d-no-subspace.ipynb')
    assert record is not None
    compared = {(c['b'], c['metric']) for c in record['claims']}
    assert ('unitarity added', 'pass') in compared and ('transition removed', 'pass') in compared
    assert all(c['n'] == record['seeds'] for c in record['claims'])


def _with_record(tmp_path: Path, change: Any) -> Path:
    source = NOTEBOOKS / 'ex-2.10-delete-only-red-5d-no-subspace.ipynb'
    nb = json.loads(source.read_text())
    for cell in nb['cells']:
        for out in cell.get('outputs', []):
            if RESULTS_MIME in out.get('data', {}):
                out['data'][RESULTS_MIME] = change(copy.deepcopy(out['data'][RESULTS_MIME]))
    path = tmp_path / source.name
    path.write_text(json.dumps(nb))
    return path


def test_the_check_fails_on_a_direction_its_test_does_not_support_or_a_claim_without_its_numbers(tmp_path):
    def overclaim(rec):
        weak = next(c for c in rec['claims'] if c['verdict'] == 'not distinguishable')
        weak['verdict'] = 'higher'  # "with enough seeds the effect is clear", said without the test
        return rec

    assert any(
        "says 'higher' where its corrected test allows" in p
        for p in claim_problems(_with_record(tmp_path, overclaim))
    )

    def bare(rec):
        rec['claims'][0]['text'] = 'Unitarity makes red easier to delete.'
        return rec

    problems = claim_problems(_with_record(tmp_path, bare))
    assert any('not rendered' in p for p in problems) and any('lacks its n, interval' in p for p in problems)
    assert any(
        'the results record does not hold' in p for p in problems
    )  # the real sentence is now unrecorded

    def uncorrected(rec):
        rec['claims'][0]['p_holm'] = None
        return rec

    assert any('Holm-corrected' in p for p in claim_problems(_with_record(tmp_path, uncorrected)))
