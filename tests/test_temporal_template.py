"""`SheetTemplate`: a search space over a dopesheet's cells, and the sheet each point fills in."""

from __future__ import annotations

import pytest

from mini.temporal import DopesheetError
from mini.temporal.template import SearchParam, SearchSpace, SheetTemplate
from tests.training_helpers import NOTEBOOKS

SHEET = NOTEBOOKS / 'ex-2.10-dopesheet.csv'
# line 2: 0,Train,,1e-8,,0,0.25   line 5: 750,,,0.1,0.01,0.15,0.03   line 7: 1500,,,0.05,,,
SPACE = [
    SearchParam('anti_start', 2, 'reg-anti-subspace', 0.01, 1.0, log=True),
    SearchParam('anchor_peak', 5, 'reg-anchor', 0.01, 1.0, log=True),
    SearchParam('transition', 5, 'STEP', 100, 1600),
]


def test_a_point_fills_its_cells_and_the_rest_of_the_sheet_stays():
    t = SheetTemplate.from_csv(SHEET, SPACE)
    assert t.current() == {'anti_start': 0.25, 'anchor_peak': 0.15, 'transition': 750.0}
    ds = t.fill({'anti_start': 0.5, 'anchor_peak': 0.3, 'transition': 800.4}, 'trial 1')
    assert ds.source.endswith('ex-2.10-dopesheet.csv @ trial 1')
    assert len(ds) == 1501  # the schedule's length is untouched
    assert [(k.t, k.value) for k in ds.keyframes('reg-anchor')][:2] == [(0, 0.0), (800, 0.3)]
    assert ds.keyframes('reg-anti-subspace')[0].value == 0.5
    # the template's own values give back the template's sheet
    current = t.current()
    own = {name: v for name, v in current.items() if v is not None}
    assert own == current  # every parameter's cell holds a value
    assert t.fill(own).to_dict() == t.base.to_dict()


def test_a_point_that_reorders_the_rows_is_refused_at_the_varied_line():
    t = SheetTemplate.from_csv(SHEET, SPACE)
    with pytest.raises(
        DopesheetError,
        match=r"@ trial 2, line 5, column 'STEP': step 1550 \(line 5\) is not before step 1500",
    ):
        t.fill({'anti_start': 0.5, 'anchor_peak': 0.3, 'transition': 1550}, 'trial 2')


def test_values_outside_the_range_or_missing_are_refused_by_name():
    t = SheetTemplate.from_csv(SHEET, SPACE)
    with pytest.raises(ValueError, match=r'anchor_peak=2\.0 is outside its range \[0\.01, 1\.0\]'):
        t.fill({'anti_start': 0.5, 'anchor_peak': 2.0, 'transition': 800})
    with pytest.raises(KeyError, match=r"missing \['transition'\], unknown \['typo'\]"):
        t.fill({'anti_start': 0.5, 'anchor_peak': 0.3, 'typo': 1})


@pytest.mark.parametrize(
    ('params', 'message'),
    [
        ([SearchParam('x', 9, 'lr', 0.1, 1)], r"'x' names line 9; the file has 7"),
        ([SearchParam('x', 2, 'reg-anchr', 0.1, 1)], r"'x' names column 'reg-anchr'; the columns are"),
        ([SearchParam('x', 3, 'STEP', 1, 100)], r'line 3: .*relative step'),
        ([SearchParam('x', 2, 'lr', 0.1, 1), SearchParam('x', 5, 'lr', 0.1, 1)], r"names repeat: \['x'\]"),
        (
            [SearchParam('x', 2, 'lr', 0.1, 1), SearchParam('y', 2, 'lr', 0.1, 1)],
            r"same cell\(s\) \[\(2, 'lr'\)\]",
        ),
    ],
)
def test_a_space_that_names_no_such_cell_is_refused_naming_the_parameter(params, message):
    with pytest.raises(ValueError, match=message):
        SheetTemplate.from_csv(SHEET, params)


def test_a_parameter_with_an_impossible_range_is_refused():
    with pytest.raises(ValueError, match=r"'x': low must be < high"):
        SearchParam('x', 2, 'lr', 1.0, 1.0)
    with pytest.raises(ValueError, match=r"'x': a log scale needs low > 0"):
        SearchParam('x', 2, 'lr', 0.0, 1.0, log=True)
    with pytest.raises(ValueError, match=r'line must be an int >= 2'):
        SearchParam('x', 1, 'lr', 0.1, 1.0)
    with pytest.raises(ValueError, match='at least one parameter'):
        SearchSpace(())


def test_a_parameter_over_several_lines_sets_each_of_their_cells():
    # lines 5 and 6 hold lr 0.1 from step 750 until the +0.9 row: one "peak learning rate"
    t = SheetTemplate.from_csv(SHEET, [SearchParam('lr_peak', (5, 6), 'lr', 0.01, 1.0, log=True)])
    assert t.current() == {'lr_peak': 0.1}
    ds = t.fill({'lr_peak': 0.3})
    lr = [(k.t, k.value) for k in ds.keyframes('lr')]
    assert lr[-3:] == [(750, 0.3), (1425, 0.3), (1500, 0.05)]
    with pytest.raises(ValueError, match=r"'lr_peak': line names a line twice"):
        SearchParam('lr_peak', (5, 5), 'lr', 0.01, 1.0)
    with pytest.raises(ValueError, match=r"same cell\(s\) \[\(5, 'lr'\)\]"):
        SearchSpace((SearchParam('a', (5, 6), 'lr', 0.1, 1), SearchParam('b', 5, 'lr', 0.1, 1)))
    # cells that differ in the template: the template is not a point of the space
    differ = SheetTemplate.from_csv(SHEET, [SearchParam('lr_any', (5, 7), 'lr', 0.01, 1.0)])
    with pytest.raises(ValueError, match=r"'lr_any' spans lines \(5, 7\) of 'lr', whose cells differ"):
        differ.current()
