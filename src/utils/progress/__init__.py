"""Progress display for long work (fits, sweeps): a bar, its live chart and its terminal forms.

`utils.progress.lightning` (the bar as a Lightning callback) is not re-exported: importing it
imports Lightning, about a second.
"""

from utils.progress.chart import MAX_SERIES, chart_metrics
from utils.progress.colours import metric_colour, term_name
from utils.progress.display import Progress, ProgressState, default_sink
from utils.progress.relay import KernelRelay

__all__ = [
    'MAX_SERIES',
    'KernelRelay',
    'Progress',
    'ProgressState',
    'chart_metrics',
    'default_sink',
    'metric_colour',
    'term_name',
]
