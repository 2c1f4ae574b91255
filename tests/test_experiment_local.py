"""Experiment on the local backend: same results as a direct call, guards, sessions, backend choice."""

import asyncio
import logging

import pytest
import torch

from mini.experiment import BACKEND_ENV, Experiment, ModalAuthError


@pytest.fixture(autouse=True)
def no_modal_credentials(monkeypatch, tmp_path):
    """No Modal token anywhere: clear MODAL_* variables and point the config at an empty file."""
    import os

    for var in list(os.environ):
        if var.startswith('MODAL_'):
            monkeypatch.delenv(var)
    monkeypatch.delenv(BACKEND_ENV, raising=False)
    config = tmp_path / 'modal.toml'
    config.write_text('')
    monkeypatch.setenv('MODAL_CONFIG_PATH', str(config))


async def train_linear(steps: int, *, seed: int) -> torch.nn.Linear:
    """Fit y = 2x + 1 with SGD; deterministic for a given seed."""
    torch.manual_seed(seed)
    model = torch.nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.linspace(-1, 1, 16).unsqueeze(1)
    y = 2 * x + 1
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
    return model


def test_local_thither_matches_direct_call_bitwise():
    run = Experiment('Ex test: local', project='tests')
    assert run.backend.name == 'local'
    remote_train = run.thither(cpu=1, timeout=60)(train_linear)

    direct = asyncio.run(train_linear(5, seed=3))
    via_run = asyncio.run(remote_train(5, seed=3))

    assert isinstance(via_run, torch.nn.Linear)
    for a, b in zip(direct.parameters(), via_run.parameters(), strict=True):
        assert torch.equal(a, b)
    # Training did something: the weight moved from its initial value towards 2.
    torch.manual_seed(3)
    untrained = torch.nn.Linear(1, 1)
    assert not torch.equal(untrained.weight, via_run.weight)


def test_local_call_returns_the_same_object_without_copying():
    run = Experiment('identity', backend='local')
    payload = {'tensor': torch.zeros(2)}

    @run.thither
    async def echo(x):
        return x

    assert asyncio.run(echo(payload)) is payload


def test_guards_run_in_registration_order_around_each_call():
    run = Experiment('guards', backend='local')
    events = []
    run.before_each(lambda: events.append('before-plain'))
    run.before_each(lambda fn: events.append(f'before-fn:{fn.__name__}'))
    run.after_each(lambda: events.append('after-plain'))
    run.after_each(lambda t, e, tb: events.append(f'after-exc:{t}'))

    @run.thither
    async def work():
        events.append('body')
        return 7

    assert asyncio.run(work()) == 7
    assert events == ['before-plain', 'before-fn:work', 'body', 'after-plain', 'after-exc:None']


def test_after_each_sees_the_exception_of_a_failing_call():
    run = Experiment('failing', backend='local')
    seen = []
    run.after_each(lambda fn, t, e, tb: seen.append((fn.__name__, t, str(e), tb is not None)))

    @run.thither
    async def broken():
        raise ValueError('bad input')

    with pytest.raises(ValueError, match='bad input'):
        asyncio.run(broken())
    assert seen == [('broken', ValueError, 'bad input', True)]


def test_async_guards_are_awaited_and_decorators_return_the_callback():
    run = Experiment('async guards', backend='local')
    events = []

    async def before():
        events.append('async-before')

    assert run.before_each(before) is before

    @run.thither
    async def work():
        events.append('body')

    asyncio.run(work())
    assert events == ['async-before', 'body']


def test_guard_with_unsupported_signature_is_rejected_at_registration():
    run = Experiment('bad guard', backend='local')
    with pytest.raises(TypeError, match='after_each'):
        run.after_each(lambda a, b: None)
    with pytest.raises(TypeError, match='before_each'):
        run.before_each(lambda a, b, c: None)


def test_thither_rejects_sync_functions_and_reserved_or_unknown_options():
    run = Experiment('bad thither', backend='local')
    with pytest.raises(TypeError, match='async def'):
        run.thither(lambda: None)
    with pytest.raises(ValueError, match='serialized'):
        run.thither(serialized=False)
    pytest.importorskip('modal')
    with pytest.raises(TypeError, match='cpus'):
        run.thither(cpus=2)


def test_session_is_announced_once_and_sessions_do_not_nest(caplog):
    run = Experiment('announce', backend='local')

    @run.thither
    async def one():
        return 1

    async def main():
        async with run() as session:
            assert session.backend.name == 'local'
            assert len(session.run_id) == 8
            assert await one() + await one() == 2
            with pytest.raises(RuntimeError, match='already running'):
                async with run():
                    pass

    with caplog.at_level(logging.INFO, logger='mini.experiment'):
        asyncio.run(main())
    lines = [r for r in caplog.records if r.name == 'mini.experiment']
    assert len(lines) == 1
    assert 'locally' in lines[0].getMessage()


def test_implicit_calls_announce_only_on_the_first_call(caplog):
    run = Experiment('implicit', backend='local')

    @run.thither
    async def one():
        return 1

    with caplog.at_level(logging.INFO, logger='mini.experiment'):
        assert asyncio.run(one()) == 1
        assert asyncio.run(one()) == 1
    assert len([r for r in caplog.records if r.name == 'mini.experiment']) == 1


def test_backend_env_var_forces_and_validates(monkeypatch):
    monkeypatch.setenv(BACKEND_ENV, 'local')
    assert Experiment('forced').backend.name == 'local'
    monkeypatch.setenv(BACKEND_ENV, 'gpu')
    with pytest.raises(ValueError, match=BACKEND_ENV):
        Experiment('typo')
    with pytest.raises(ValueError, match='backend argument'):
        Experiment('typo', backend='Modal')


@pytest.mark.timeout(5)
def test_forced_modal_without_token_fails_at_once_with_hint(monkeypatch):
    monkeypatch.setenv(BACKEND_ENV, 'modal')
    run = Experiment('no token')
    assert run.backend.name == 'modal'

    @run.thither
    async def never():
        raise AssertionError('must not run')

    with pytest.raises(ModalAuthError, match='modal token new'):
        asyncio.run(never())


def test_experiment_name_is_validated():
    with pytest.raises(ValueError, match='name'):
        Experiment('  ')
    assert Experiment('Ex 2.10: Ablate', project='p').app_name == 'Ex 2.10: Ablate - p'
    assert Experiment('Ex 2.10: Ablate', backend='local').slug == 'ex-2-10-ablate'
