"""What a re-run reuses: scores (`ScoreCache`), figures (`displayer_mpl(key=...)`) and the code digest
memo, each keyed so that a change of input or code is never served an old result."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ex_color.evaluation.ablation import seed_metrics, stacked_metrics
from ex_color.experiments.common import evaluation_cubes
from ex_color.model import CNColorMLP
from utils.code_digest import code_digest
from utils.nb import displayer_mpl

ROOT = Path(__file__).resolve().parents[1]


def _models(n: int) -> list[CNColorMLP]:
    torch.manual_seed(0)
    return [CNColorMLP(5, n_nonlinear=2).eval() for _ in range(n)]


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob('*') if p.is_file()) if folder.exists() else []


def test_scores_come_back_from_the_cache_unchanged_and_only_new_models_are_scored(tmp_path, monkeypatch):
    from ex_color.evaluation import ablation

    monkeypatch.setenv('EX_COLOR_RUNS_DIR', str(tmp_path))
    cubes = evaluation_cubes()
    models = _models(3)
    fresh = stacked_metrics(models, cubes.hd_hsv, cubes.rgb)
    first = stacked_metrics(models[:2], cubes.hd_hsv, cubes.rgb, cache=True)
    assert first == fresh[:2]  # storing changes nothing
    assert len(_files(tmp_path / 'scores')) == 1  # one pack for the call

    scored: list[int] = []
    real = ablation._score

    def counting(ms, *args):
        scored.append(len(ms))
        return real(ms, *args)

    monkeypatch.setattr(ablation, '_score', counting)
    again = stacked_metrics(models, cubes.hd_hsv, cubes.rgb, cache=True)
    assert again == fresh  # bitwise: JSON keeps every float's digits
    assert scored == [1]  # the two scored before came from the cache; only the third was scored
    stacked_metrics(models, cubes.hd_hsv, cubes.rgb, cache=True)
    assert scored == [1]

    # changed weights, another test cube or another ablated dimension: scored afresh
    with torch.no_grad():
        first_layer = models[0].decoder[0]
        assert isinstance(first_layer, torch.nn.Linear)
        first_layer.weight[0, 0] += 1e-3
    stacked_metrics(models[:1], cubes.hd_hsv, cubes.rgb, cache=True)
    stacked_metrics(models[1:2], cubes.hd_hsv, cubes.hd_hsv, cache=True)
    stacked_metrics(models[1:2], cubes.hd_hsv, cubes.rgb, (1,), cache=True)
    assert scored == [1, 1, 1, 1]


def test_seed_metrics_caches_by_default_and_can_be_told_not_to(tmp_path, monkeypatch):
    monkeypatch.setenv('EX_COLOR_RUNS_DIR', str(tmp_path))
    cubes = evaluation_cubes()
    models = dict(enumerate(_models(2)))
    seed_metrics(models, cubes.hd_hsv, cubes.rgb, cache=False)
    assert _files(tmp_path) == []
    table = seed_metrics(models, cubes.hd_hsv, cubes.rgb)
    assert len(_files(tmp_path / 'scores')) == 1
    assert seed_metrics(models, cubes.hd_hsv, cubes.rgb).equals(table)


def test_a_damaged_score_pack_is_an_error_that_names_its_file(tmp_path, monkeypatch):
    monkeypatch.setenv('EX_COLOR_RUNS_DIR', str(tmp_path))
    cubes = evaluation_cubes()
    models = _models(1)
    stacked_metrics(models, cubes.hd_hsv, cubes.rgb, cache=True)
    (pack,) = _files(tmp_path / 'scores')
    pack.write_text('{"abc": {"red": "not a number"}')
    with pytest.raises(ValueError, match=rf'score cache file {pack} is damaged'):
        stacked_metrics(models, cubes.hd_hsv, cubes.rgb, cache=True)


def _figure(title: str):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [0, 1])
    fig.suptitle(title)
    return fig


def test_a_figure_with_a_known_key_is_written_from_the_cache_without_drawing(tmp_path, monkeypatch):
    monkeypatch.setenv('EX_COLOR_RUNS_DIR', str(tmp_path / 'runs'))
    monkeypatch.setenv('EX_COLOR_FIGURES_DIR', str(tmp_path / 'figures'))
    drawn: list[str] = []

    def show_one(key: str | None, title: str):
        def draw():
            drawn.append(title)
            return _figure(title)

        with displayer_mpl('large-assets/cached.png', alt_text='"{title}"', key=key) as show:
            show(draw)
        assert show.result is not None
        return show.result, {name: path.read_bytes() for name, path in show.result.files.items()}

    first, first_bytes = show_one('k1', 'one')
    again, again_bytes = show_one('k1', 'one')
    assert drawn == ['one', 'one']  # light and dark, once: the second call drew nothing
    assert again.html == first.html and again.alt_text == '"one"'
    assert again_bytes == first_bytes
    show_one('k2', 'two')  # another key draws
    show_one(None, 'three')  # no key: always draws
    show_one(None, 'three')
    assert drawn == ['one'] * 2 + ['two'] * 2 + ['three'] * 4


def test_code_digest_ignores_prose_follows_code_and_refuses_patterns_that_name_nothing(tmp_path):
    src = tmp_path / 'src'
    (src / 'pkg').mkdir(parents=True)
    module = src / 'pkg' / 'mod.py'
    module.write_text('"""Prose."""\n\nX = 1  # a comment\n')
    memo = tmp_path / 'memo.json'
    before = code_digest(src, ['pkg'], memo=memo)
    assert before == code_digest(src, ['pkg'])  # the memo changes nothing
    assert len(json.loads(memo.read_text())) == 1
    module.write_text('"""Other prose."""\n\nX = 1\n')
    assert code_digest(src, ['pkg'], memo=memo) == before
    module.write_text('"""Prose."""\n\nX = 2\n')
    assert code_digest(src, ['pkg'], memo=memo) != before
    assert code_digest(src, ['pkg'], memo=memo) == code_digest(src, ['pkg'])
    with pytest.raises(FileNotFoundError, match=r"'pkg/gone.py' names no Python file"):
        code_digest(src, ['pkg/gone.py'])
    memo.write_text('not json')
    with pytest.raises(ValueError, match=rf'code digest memo {memo} is damaged'):
        code_digest(src, ['pkg'], memo=memo)


def test_a_notebook_that_reuses_everything_imports_nothing_heavy_it_does_not_use():
    # What a cached re-run of a notebook imports: Lightning, pyplot, scipy's statistics and modal
    # cost 0.3-1.4 s each and are loaded only where they are used (training under L.Trainer, drawing
    # a figure, a test of significance, the Modal backend).
    script = (
        'import sys\n'
        'from ex_color.experiments.notebook import NotebookTrainer, set_up, trained_markdown\n'
        'from ex_color.experiments.ex_2_11.figures import show_label_coverage\n'
        'from ex_color.experiments.ex_2_11.report import settings_markdown\n'
        'from ex_color.experiments.ex_2_11.coverage import coverage_metrics, coverage_summary\n'
        'from ex_color.training import RunSettings, train\n'
        'import ex_color.vis\n'  # its names load their modules on use
        'heavy = ("lightning", "matplotlib.pyplot", "scipy.stats", "modal")\n'
        'print(",".join(m for m in heavy if m in sys.modules))\n'
    )
    out = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == ''
