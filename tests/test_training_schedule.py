"""Schedule.build: a realised timeline can be shared between members, but only with its own sheet."""

from __future__ import annotations

import numpy as np
import pytest

from ex_color.experiments import ex_2_10
from ex_color.training.schedule import Schedule
from mini.temporal import DopesheetError
from mini.temporal.dopesheet import Dopesheet
from mini.temporal.timeline import Timeline
from tests.training_helpers import notebook_dopesheet


def sheet() -> Dopesheet:
    return notebook_dopesheet(ex_2_10.DOPESHEET)


def test_a_shared_timeline_builds_the_same_schedule_as_realising_the_sheet_again():
    ds = sheet()
    timeline = Timeline(ds)
    own = Schedule.build(ds, ex_2_10.regularizers(), weight_scale={'reg-anchor': 0.5})
    shared = Schedule.build(ds, ex_2_10.regularizers(), weight_scale={'reg-anchor': 0.5}, timeline=timeline)
    np.testing.assert_array_equal(own.lr, shared.lr)
    assert list(own.weights) == list(shared.weights)
    for name in own.weights:
        np.testing.assert_array_equal(own.weights[name], shared.weights[name])
    assert own.phase_starts == shared.phase_starts
    # the shared timeline is read, never stepped or written
    assert timeline.current_step == 0


def test_a_timeline_of_another_sheet_is_refused():
    with pytest.raises(ValueError, match='timeline= realises'):
        Schedule.build(sheet(), ex_2_10.regularizers(), timeline=Timeline(sheet()))


def test_a_negative_learning_rate_after_step_0_is_refused_at_its_line_and_column(tmp_path):
    path = tmp_path / 'sheet.csv'
    path.write_text(
        'STEP,PHASE,ACTION,lr,reg-separate,reg-anchor,reg-anti-subspace\n'
        '0,Train,,1e-8,1,0,0.25\n'
        '10,,,0.01,,,\n'
        '500,,,-0.001,,,\n'
        '1500,,,0.001,,,\n'
    )
    with pytest.raises(
        DopesheetError, match=r"sheet\.csv, line 4, column 'lr': learning rate -0\.001 at step 500"
    ):
        Schedule.build(Dopesheet.from_csv(path), ex_2_10.regularizers())


def test_a_regulariser_named_like_a_reserved_column_is_refused_by_name():
    from dataclasses import replace

    regs = ex_2_10.regularizers()
    clash = [replace(regs[0], name='lr'), *regs[1:]]
    with pytest.raises(ValueError, match=r"Regulariser names \['lr'\] are reserved for dopesheet columns"):
        Schedule.build(sheet(), clash)
