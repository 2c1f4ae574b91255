"""Modal is opt-in; credentials are read offline from env and config file, and never choose Modal."""

import os

import pytest

from mini.experiment import BACKEND_ENV, choose_backend, find_modal_credentials


@pytest.fixture
def config(monkeypatch, tmp_path):
    for var in list(os.environ):
        if var.startswith('MODAL_'):
            monkeypatch.delenv(var)
    monkeypatch.delenv(BACKEND_ENV, raising=False)
    path = tmp_path / 'modal.toml'
    path.write_text('')
    monkeypatch.setenv('MODAL_CONFIG_PATH', str(path))
    return path


def test_no_credentials_means_local(config):
    assert find_modal_credentials() is None
    choice = choose_backend()
    assert choice.name == 'local'
    assert f'{BACKEND_ENV}=modal' in choice.reason


def test_missing_config_file_means_local(config):
    config.unlink()
    assert choose_backend().name == 'local'


def test_a_token_alone_never_chooses_modal(config, monkeypatch):
    config.write_text('[default]\ntoken_id = "ak-1"\ntoken_secret = "as-1"\n')
    monkeypatch.setenv('MODAL_TOKEN_ID', 'ak-2')
    monkeypatch.setenv('MODAL_TOKEN_SECRET', 'as-2')
    assert find_modal_credentials() is not None
    assert choose_backend().name == 'local'
    monkeypatch.setenv(BACKEND_ENV, 'modal')
    choice = choose_backend()
    assert choice.name == 'modal'
    assert f'{BACKEND_ENV}=modal' in choice.reason


def test_active_profile_is_used_and_modal_profile_overrides_it(config, monkeypatch):
    config.write_text('[empty]\nactive = true\n\n[work]\ntoken_id = "ak-1"\ntoken_secret = "as-1"\n')
    assert find_modal_credentials() is None
    monkeypatch.setenv('MODAL_PROFILE', 'work')
    found = find_modal_credentials()
    assert found is not None and "profile 'work'" in found


def test_env_tokens_count_and_mix_with_file_per_key(config, monkeypatch):
    monkeypatch.setenv('MODAL_TOKEN_ID', 'ak-1')
    assert find_modal_credentials() is None  # a secret is still missing
    config.write_text('[default]\ntoken_secret = "as-1"\n')
    assert find_modal_credentials() == f"$MODAL_TOKEN_ID and {config} (profile 'default')"
    monkeypatch.setenv('MODAL_TOKEN_SECRET', 'as-1')
    assert find_modal_credentials() == '$MODAL_TOKEN_ID and $MODAL_TOKEN_SECRET'


def test_forcing_wins_over_detection(config, monkeypatch):
    config.write_text('[default]\ntoken_id = "ak-1"\ntoken_secret = "as-1"\n')
    monkeypatch.setenv(BACKEND_ENV, 'local')
    assert choose_backend().name == 'local'
    assert choose_backend('modal').name == 'modal'


def test_unreadable_config_is_an_error_naming_the_file_but_only_when_modal_is_asked_for(config):
    config.write_text('[default\n')
    assert choose_backend().name == 'local'
    with pytest.raises(ValueError, match='modal.toml'):
        find_modal_credentials()
