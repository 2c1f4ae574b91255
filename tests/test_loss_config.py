"""RegularizerConfig validation and phase normalisation."""

import math
from typing import Any

import pytest

from ex_color.loss import AngularAnchor, RegularizerConfig, Separate


def make(**overrides):
    kwargs: dict[str, Any] = dict(
        name='reg-anchor',
        compute_loss_term=AngularAnchor((1, 0, 0, 0, 0)),
        label_affinities={'red': 1.0},
        layer_affinities=['bottleneck'],
    )
    kwargs.update(overrides)
    return RegularizerConfig(**kwargs)


def test_defaults_to_train_only():
    cfg = make()
    assert cfg.phases == frozenset({'train'})
    assert cfg.train and not cfg.validate


def test_both_phases():
    cfg = make(phase=('train', 'validate'))
    assert cfg.phases == frozenset({'train', 'validate'})
    assert cfg.train and cfg.validate
    assert make(phase='validate').phases == frozenset({'validate'})


@pytest.mark.parametrize('phase', ['training', ('train', 'test'), ()])
def test_rejects_unknown_or_empty_phase(phase):
    with pytest.raises(ValueError, match=r'RegularizerConfig\.phase'):
        make(phase=phase)


def test_rejects_empty_layer_list():
    with pytest.raises(ValueError, match=r'layer_affinities .*at least one layer'):
        make(layer_affinities=[])


def test_rejects_bare_string_layer():
    with pytest.raises(TypeError, match='layer_affinities'):
        make(layer_affinities='bottleneck')


@pytest.mark.parametrize('name', ['reg.anchor', 'reg:anchor', 'reg anchor', 'reg,anchor', '', ' reg'])
def test_rejects_bad_names(name):
    with pytest.raises(ValueError, match=r'RegularizerConfig\.name'):
        make(name=name)


def test_rejects_non_module_term():
    with pytest.raises(TypeError, match='compute_loss_term'):
        make(compute_loss_term=lambda x: x)


@pytest.mark.parametrize('aff', [{'red': math.nan}, {'red': math.inf}, {'red': True}, {'red': '1'}, {}])
def test_rejects_bad_label_affinities(aff):
    with pytest.raises(ValueError, match='label_affinities'):
        make(label_affinities=aff)


def test_a_negative_affinity_is_refused_naming_the_label():
    with pytest.raises(ValueError, match=r"label_affinities \(.*\): weight for 'red' is -0.5"):
        make(label_affinities={'red': -0.5})


def test_none_affinities_and_seed_configs():
    cfg = make(name='reg-separate', compute_loss_term=Separate(power=100.0), label_affinities=None)
    assert cfg.label_affinities is None and cfg.layer_affinities == ['bottleneck']
