"""utils.plt: Theme values and the named style sheets applied by use_theme."""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import pytest
from matplotlib.colors import to_rgba

from utils.plt import STYLE_SHEETS, Theme, use_theme


def test_theme_val_picks_the_value_for_its_name_else_default():
    assert Theme('light').val('d', light='L', dark='D') == 'L'
    assert Theme('dark').val('d', light='L', dark='D') == 'D'
    assert Theme('indeterminate').val('d', light='L', dark='D') == 'd'
    assert Theme('dark').val('d', light='L') == 'd'
    # None is a real value, not "unset".
    assert Theme('dark').val('d', dark=None) is None


def test_theme_equality_hash_and_repr():
    assert Theme('dark') == Theme('dark')
    assert Theme('dark') != Theme('light')
    assert len({Theme('dark'), Theme('dark'), Theme('light')}) == 2
    assert repr(Theme('light')) == "Theme('light')"


def test_theme_rejects_unknown_names():
    with pytest.raises(ValueError, match='Dark'):
        Theme('Dark')  # type: ignore[arg-type]


def test_sheets_exist():
    assert set(STYLE_SHEETS) == {'base', 'light', 'dark', 'transparent'}


def test_use_theme_applies_sheets_in_order_and_restores():
    before = mpl.rcParams['figure.facecolor']
    with use_theme('base', 'dark', {'figure.dpi': 150}):
        assert to_rgba(mpl.rcParams['figure.facecolor']) == to_rgba('#333')
        assert mpl.rcParams['figure.dpi'] == 150
        assert mpl.rcParams['figure.constrained_layout.use'] is True
        assert mpl.rcParams['axes.spines.left'] is False
        fig = plt.figure()
        assert to_rgba(fig.get_facecolor()) == to_rgba('#333')
        plt.close(fig)
        with use_theme('light'):
            # Later sheets win.
            assert to_rgba(mpl.rcParams['figure.facecolor']) == to_rgba('white')
    assert mpl.rcParams['figure.facecolor'] == before


def test_use_theme_rejects_unknown_sheet_and_bad_rc_keys():
    with pytest.raises(KeyError, match='nope'):
        with use_theme('base', 'nope'):
            pass
    with pytest.raises(KeyError):
        with use_theme({'figure.dpix': 3}):
            pass
    with pytest.raises(TypeError, match='argument 0'):
        with use_theme(3):  # type: ignore[arg-type]
            pass


def test_sheets_do_not_depend_on_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with use_theme('base', 'transparent'):
        assert mpl.rcParams['savefig.transparent'] is True
