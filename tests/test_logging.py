"""utils.logging: concise line format (fixed clock), idempotent apply, late-bound stream, pickling."""

import io
import logging
import pickle
import re
import sys

import pytest

from utils.logging import TRACE, ConciseFormatter, NamedStreamHandler, SimpleLoggingConfig, short_name


def record(name: str, level: int, msg: str) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, None, None)


@pytest.mark.parametrize(
    'name, elapsed, msg, expected',
    [
        ('notebook.2.10', 6.3, 'Training with: [...]', 'I 6.3 notebook.2.10: Training with: [...]'),
        (
            'ex_color.seed',
            6.3,
            'PyTorch set to deterministic mode',
            'I 6.3 ex_color.seed: PyTorch set to deterministic mode',
        ),
        (
            'lightning.pytorch.utilities.rank_zero',
            6.4,
            'GPU available: False, used: False',
            'I 6.4 lightning.pytorch: GPU available: False, used: False',
        ),
    ],
)
def test_concise_format_examples(name, elapsed, msg, expected):
    fmt = ConciseFormatter(origin=100.0, clock=lambda: 100.0 + elapsed)
    assert fmt.format(record(name, logging.INFO, msg)) == expected


def test_level_letters_and_rounding():
    logging.addLevelName(TRACE, 'TRACE')
    fmt = ConciseFormatter(origin=0.0, clock=lambda: 12.345)
    assert fmt.format(record('a', logging.WARNING, 'x')) == 'W 12.3 a: x'
    assert fmt.format(record('a', TRACE, 'x')).startswith('T 12.3 a:')


def test_short_name_keeps_two_parts_and_a_version_after_them():
    assert short_name('lightning.pytorch.utilities.rank_zero') == 'lightning.pytorch'
    assert short_name('ex_color.training.run') == 'ex_color.training'
    assert short_name('notebook.2.10.1') == 'notebook.2.10.1'
    assert short_name('ex_color.training.3d') == 'ex_color.training'
    assert short_name('x') == 'x'


@pytest.fixture
def clean_root():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
    root.setLevel(level)
    for name in ('test_logging.a', 'test_logging.b'):
        logging.getLogger(name).setLevel(logging.NOTSET)


def ours(root: logging.Logger) -> list[NamedStreamHandler]:
    return [h for h in root.handlers if isinstance(h, NamedStreamHandler)]


def test_apply_twice_installs_one_handler_and_can_change_stream(clean_root):
    cfg = SimpleLoggingConfig().info('test_logging.a').trace('test_logging.b')
    assert cfg.apply() is cfg
    assert cfg() is cfg
    assert len(ours(clean_root)) == 1
    assert logging.getLogger('test_logging.a').level == logging.INFO
    assert logging.getLogger('test_logging.b').level == TRACE
    assert clean_root.level == logging.WARNING
    cfg.to_stream('stderr').base_level('error').apply()
    (handler,) = ours(clean_root)
    assert handler.stream_name == 'stderr' and clean_root.level == logging.ERROR


def test_handler_looks_up_stream_at_emit_time(clean_root, monkeypatch):
    SimpleLoggingConfig().info('test_logging.a').apply()
    replaced = io.StringIO()
    monkeypatch.setattr(sys, 'stdout', replaced)
    logging.getLogger('test_logging.a').info('hello')
    # Elapsed time depends on the process clock; the rest of the line is fixed.
    assert re.fullmatch(r'I \d+\.\d test_logging\.a: hello\n', replaced.getvalue())


def test_config_is_plain_picklable_data():
    cfg = SimpleLoggingConfig().to_stream('stderr').info('notebook', 'ex_color').error('matplotlib.axes')
    clone = pickle.loads(pickle.dumps(cfg))
    assert clone == cfg
    assert clone.levels == {
        'notebook': logging.INFO,
        'ex_color': logging.INFO,
        'matplotlib.axes': logging.ERROR,
    }


def test_bad_level_and_stream_are_errors():
    with pytest.raises(ValueError, match='stream'):
        SimpleLoggingConfig().to_stream('stdot')  # type: ignore[arg-type]
    with pytest.raises(ValueError, match='unknown logging level'):
        SimpleLoggingConfig().base_level('verbose')


def test_adopt_prints_a_librarys_messages_once_through_our_handler(clean_root, capsys):
    lib = logging.getLogger('test_logging.lib')
    own = logging.StreamHandler(sys.stderr)  # what Lightning installs when imported first
    lib.addHandler(own)
    lib.propagate = False
    lib.setLevel(logging.INFO)
    try:
        SimpleLoggingConfig(stream='stderr').adopt('test_logging.lib').apply()
        lib.info('GPU available: False')
        err = capsys.readouterr().err
        assert err.count('GPU available: False') == 1
        assert re.search(r'^I [0-9.]+ test_logging.lib: GPU available: False$', err, re.M)
        assert own not in lib.handlers and lib.propagate
    finally:
        lib.removeHandler(own)
        lib.propagate = True
