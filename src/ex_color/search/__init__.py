"""Schedule search: Optuna proposes a batch of schedules, one run of the engine trains them all over seeds.

`study` holds one batch (`open_study`, `search_batch`, `search_batch_async`); `schedule` holds the
loop a notebook runs (`ScheduleSearch`) and the rules that pick from its trials (`feasible_front`,
`choose`); `racing` holds the race that spends seeds on the best candidates (`race`, `Rung`).
"""

from ex_color.search.racing import Race, Rung, race
from ex_color.search.schedule import ScheduleSearch, choose, feasible_front
from ex_color.search.study import (
    Objective,
    StudyFileError,
    TrialOutcome,
    constraint_values,
    open_study,
    search_batch,
    search_batch_async,
    study_lock,
)

__all__ = [
    'Objective',
    'Race',
    'Rung',
    'ScheduleSearch',
    'StudyFileError',
    'TrialOutcome',
    'choose',
    'constraint_values',
    'feasible_front',
    'open_study',
    'race',
    'search_batch',
    'search_batch_async',
    'study_lock',
]
