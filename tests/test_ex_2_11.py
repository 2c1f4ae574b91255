"""Ex 2.11's label model: s annotators, p = 1 − (1 − q)^s, and the labelled samples a member should see.

The expected counts are checked against the engine twice: exactly, by replaying each member's own
batches under a sheet whose anchor is live only for known steps, and statistically, as the mean of
`label_counts['red']` over seeds.
"""

from __future__ import annotations

import math
from typing import Any, cast

import numpy as np
import pytest
import torch

from ex_color.data.cube_dataset import redness
from ex_color.evaluation.ablation import ablation_metrics, seed_metrics
from ex_color.evaluation.claims import holm
from ex_color.experiments import ex_2_10, ex_2_11
from ex_color.experiments.common import evaluation_cubes
from ex_color.experiments.ex_2_11.coverage import coverage_metrics, coverage_tests
from ex_color.training import train_members
from mini.temporal.dopesheet import Dopesheet
from tests.training_helpers import notebook_dopesheet

# The anchor is live at steps 21 … 34 only (zero up to step 20, 0.1 from 21, zero again from 35).
GATED_SHEET = """STEP,PHASE,ACTION,lr,reg-separate,reg-anchor,reg-anti-subspace
0,Train,,0.01,0.01,0,0.1
20,,,,,0,
21,,,,,0.1,
34,,,,,0.1,
35,,,,,0,
48,,,,,,
"""
GATED_LIVE = range(21, 35)


def gated() -> Dopesheet:
    return Dopesheet.from_text(GATED_SHEET, source='gated.csv')


def train(specs, sheet: Dopesheet, max_steps: int):
    return train_members(
        specs,
        dopesheet=sheet,
        regularizers=ex_2_10.regularizers(),
        make_data=ex_2_11.make_data,
        k_bottleneck=ex_2_10.K,
        n_nonlinear=ex_2_10.N,
        run_name='test ex 2.11',
        max_steps=max_steps,
        wandb_mode='disabled',
        progress=False,
    )


def test_one_annotator_is_exactly_ex_2_10s_label():
    ours, theirs = ex_2_11.make_data(3, 1.0), ex_2_10.make_data(3)
    assert torch.equal(ours[0].soft_labels['red'], theirs[0].soft_labels['red'])
    assert torch.equal(ours[0].colors, theirs[0].colors)
    assert ours[0].seed == theirs[0].seed and ours[0].batch_size == theirs[0].batch_size == 64
    assert torch.equal(ours[1].labels['red'], theirs[1].labels['red'])  # validation unchanged
    # and the default is one annotator
    assert torch.equal(ex_2_11.make_data(3)[0].soft_labels['red'], theirs[0].soft_labels['red'])


def test_the_label_probability_is_one_minus_every_annotator_missing():
    rgb = np.array([[1.0, 0.0, 0.0], [1.0, 0.5, 0.0], [0.0, 1.0, 0.0]])
    q = redness(rgb) ** 8 * 0.08  # pure red: 0.08; orange: 0.75⁸ × 0.08 ≈ 0.0080; green: 0
    for s in (0.0625, 0.5, 2.0, 32.0):
        p = ex_2_11.annotated_rate(rgb, s)
        np.testing.assert_allclose(p, 1 - (1 - q) ** s, rtol=1e-12)
    # two annotators at pure red: 1 − 0.92² = 0.1536
    assert ex_2_11.annotated_rate(rgb, 2.0)[0] == pytest.approx(0.1536, rel=1e-12)
    # small s: p ≈ s·q, off by a relative (1 − s)·q/2 (orange: 0.94 × 0.008 / 2 ≈ 0.4%);
    # and never a clamp: p < 1 even for many annotators
    assert ex_2_11.annotated_rate(rgb, 0.0625)[1] == pytest.approx(0.0625 * q[1], rel=6e-3)
    assert ex_2_11.annotated_rate(rgb, 0.0625)[1] > 0.0625 * q[1]
    assert ex_2_11.annotated_rate(rgb, 32.0)[0] < 1
    assert ex_2_11.annotated_rate(rgb, 32.0)[2] == 0


def test_bad_annotator_counts_are_refused_by_name():
    for bad in (0, -1.0, math.inf, math.nan):
        with pytest.raises(ValueError, match='annotators must be a finite number > 0'):
            ex_2_11.make_data(0, bad)
    with pytest.raises(TypeError, match='annotators must be a number'):
        ex_2_11.make_data(0, cast(Any, '2'))  # deliberately a string: the run-time check is under test
    with pytest.raises(ValueError, match='annotators'):
        ex_2_11.expected_labels(0, gated())
    with pytest.raises(ValueError, match='annotators'):
        ex_2_11.member_specs([1.0, -2.0], [0])


def test_every_setting_draws_the_same_colours_and_nested_labels_for_a_seed():
    # what makes the settings' seeds pairs: one generator draws the batch's colours, then one uniform per
    # sample that the label compares with p, so only p differs between settings, and p grows with s
    epochs = {s: [(c, labels['red']) for c, labels in ex_2_11.make_data(7, s)[0]] for s in ex_2_11.ANNOTATORS}
    reference = epochs[1.0]
    for s, batches in epochs.items():
        assert all(torch.equal(c, c1) for (c, _), (c1, _) in zip(batches, reference, strict=True)), s
    for fewer, more in zip(ex_2_11.ANNOTATORS, ex_2_11.ANNOTATORS[1:], strict=False):
        for (_, a), (_, b) in zip(epochs[fewer], epochs[more], strict=True):
            assert bool((a <= b).all()), (fewer, more)


def test_ex_2_10s_own_errors_are_unchanged():
    with pytest.raises(ValueError, match=r'label_scale must keep the red rate in \[0, 1\]'):
        ex_2_10.make_data(0, 12.6)
    with pytest.raises(ValueError, match='label_scale'):
        ex_2_10.make_data(0, -1)


def test_labelled_samples_counts_the_batches_of_the_live_steps():
    # 1000 colours in batches of 64: an epoch is 16 batches, 15 × 64 + 40.
    # Steps 21 … 31 are epoch 1's batches 5 … 15 (the last of 40): 10 × 64 + 40 = 680;
    # steps 32 … 34 are epoch 2's first three: 3 × 64 = 192. Total 872.
    assert ex_2_11.labelled_samples(gated()) == 872
    assert ex_2_11.labelled_samples(gated(), max_steps=30) == 9 * 64  # steps 21 … 29
    assert ex_2_11.labelled_samples(gated(), max_steps=100) == 872  # past the end: the last row, off
    # Ex 2.10's sheet: the anchor is live at steps 1 … 1424 of 1501. Steps 0 … 1423 are 89 whole
    # epochs (89,000 samples); less step 0 (64), plus step 1424, the first of the next epoch (64).
    assert ex_2_11.labelled_samples(notebook_dopesheet(ex_2_10.DOPESHEET)) == 89_000
    # a smoke run of 60 steps: steps 1 … 59 = 3 epochs (3000) + 12 batches (768) − step 0 (64)
    assert ex_2_11.labelled_samples(notebook_dopesheet(ex_2_10.DOPESHEET), max_steps=60) == 3704


def test_expected_labels_grow_with_annotators_and_span_three_decades():
    sheet = notebook_dopesheet(ex_2_10.DOPESHEET)
    expected = [ex_2_11.expected_labels(s, sheet) for s in ex_2_11.ANNOTATORS]
    assert all(a < b for a, b in zip(expected, expected[1:], strict=False))
    assert expected[0] < 5 and expected[-1] > 1000
    # eight settings (the five-minute budget at 200 seeds each), still spanning 1/16 … 32, with s = 1
    assert list(ex_2_11.ANNOTATORS) == [0.0625, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 32.0]
    assert 1.0 in ex_2_11.ANNOTATORS
    # s = 1 is Ex 2.10: the mean soft label over the cube times the live samples
    mean_q = float(ex_2_10.make_data(0)[0].soft_labels['red'].double().mean())
    assert ex_2_11.expected_labels(1.0, sheet) == pytest.approx(mean_q * 89_000)


def test_each_member_counts_exactly_the_labels_its_own_batches_carried_while_the_anchor_was_live():
    specs = ex_2_11.member_specs([8.0, 32.0], [0, 1])
    run = train(specs, gated(), max_steps=40)
    for member in run:
        batches = ex_2_11.make_data(member.spec.seed, **member.spec.data)[0]
        steps = [labels['red'] for _ in range(3) for _, labels in batches][:40]  # three epochs ≥ 40 steps
        carried = int(sum(steps[k].sum() for k in GATED_LIVE))
        assert member.label_counts['red'] == carried, member.name


@pytest.fixture(scope='module')
def short_run():
    """Two settings × six seeds, 60 steps of Ex 2.10's schedule (the anchor is live from step 1)."""
    return train(ex_2_11.member_specs([4.0, 32.0], range(6)), notebook_dopesheet(ex_2_10.DOPESHEET), 60)


def test_the_expected_count_matches_the_mean_count_of_a_real_run(short_run):
    sheet = notebook_dopesheet(ex_2_10.DOPESHEET)
    for s in (4.0, 32.0):
        counts = [m.label_counts['red'] for m in short_run if m.spec.data['annotators'] == s]
        assert len(counts) == 6
        expected = ex_2_11.expected_labels(s, sheet, max_steps=60)  # ≈ 11 and 66 per member
        # a sum of Bernoulli draws: its variance is below its mean, so 4 sd is at most 4·√(total)
        total = expected * len(counts)
        assert abs(sum(counts) - total) < 4 * math.sqrt(total), (s, counts, expected)


def test_coverage_metrics_score_every_member_with_its_drawn_labels(short_run):
    cubes = evaluation_cubes()
    members = [m for m in short_run if m.spec.seed < 2]  # scoring costs ~0.15 s a member
    df = coverage_metrics(members, cubes.hd_hsv, cubes.rgb)
    assert list(df.columns[:3]) == ['annotators', 'seed', 'labels']
    assert len(df) == 4 and set(df['annotators']) == {4.0, 32.0}
    for m in members:
        row = df[(df['annotators'] == m.spec.data['annotators']) & (df['seed'] == m.spec.seed)].iloc[0]
        assert row['labels'] == m.label_counts['red']
        assert row['red'] == pytest.approx(ablation_metrics(m.model, cubes.hd_hsv, cubes.rgb)['red'])
    alone = seed_metrics({m.spec.seed: m.model for m in members[:2]}, cubes.hd_hsv, cubes.rgb)
    assert list(df.columns[3:]) == list(alone.columns)  # the same metrics and pass columns
    with pytest.raises(KeyError, match="no data setting 'scale'"):
        coverage_metrics(members, cubes.hd_hsv, cubes.rgb, setting='scale')
    # the scored table pairs up as it comes: s = 32 against s = 4 on seeds 0 and 1, pass and red
    tests = holm(coverage_tests(df, reference=4.0))
    assert [(t.a, t.b, t.metric, t.n) for t in tests] == [
        ('s = 4', 's = 32', 'pass', 2),
        ('s = 4', 's = 32', 'red', 2),
    ]
    four, many = (df[df['annotators'] == s].set_index('seed') for s in (4.0, 32.0))
    assert tests[0].median_a == four['pass'].mean() and tests[0].median_b == many['pass'].mean()
    assert tests[1].median_b == pytest.approx(many['red'].median())


def test_member_specs_are_setting_by_setting_and_named():
    specs = ex_2_11.member_specs([0.0625, 2], [0, 1])
    assert [s.label for s in specs] == ['s=0.0625 seed-0', 's=0.0625 seed-1', 's=2 seed-0', 's=2 seed-1']
    assert [s.data for s in specs] == [{'annotators': 0.0625}] * 2 + [{'annotators': 2.0}] * 2
