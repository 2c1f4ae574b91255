"""Choose where `@run.thither` functions execute: on Modal, or locally in this process.

Design decisions:
- The choice is made once, when an `Experiment` is constructed, and recorded with its reason, so a
  notebook can print what it will do and re-running a cell gives the same answer.
- Modal is opt-in: work goes there only when an explicit `backend=` argument or the
  `EX_COLOR_BACKEND` environment variable (in that precedence) asks for it. Credentials on the
  machine never choose it (a token made for another project would otherwise move training, and the
  test suite, onto a paid service); with neither set, the backend is local and the config is not
  read. Any value other than `local` or `modal` is an error naming its source; an empty variable
  counts as unset.
- `find_modal_credentials` looks only at local configuration, mirroring how the Modal client resolves
  credentials (per key, environment over the active profile of the config file): `MODAL_TOKEN_ID` /
  `MODAL_TOKEN_SECRET`, OAuth variables, or `token_id`/`token_secret` in `MODAL_CONFIG_PATH` (default
  `~/.modal.toml`), profile `MODAL_PROFILE`, else the one marked `active`, else `default`. The file
  is re-read on every call rather than trusting the Modal client's import-time cache.
- Forcing Modal without credentials fails at session start, offline, with Modal's own message when
  the client can produce it without a network round-trip, plus the `modal token new` hint.

Deliberately not done: validating a token against Modal's servers (that needs the network) and
choosing a Modal environment or workspace.
"""

from __future__ import annotations

import asyncio
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

BACKEND_ENV = 'EX_COLOR_BACKEND'
BACKENDS = ('local', 'modal')
Backend = Literal['local', 'modal']

TOKEN_HINT = 'Run `modal token new` to create a token, or set EX_COLOR_BACKEND=local to run in-process.'


class ModalAuthError(RuntimeError):
    """Modal was requested but no usable credentials are configured."""


@dataclass(frozen=True)
class BackendChoice:
    """Which backend runs remote functions, and why."""

    name: Backend
    """`'local'` (in-process) or `'modal'`."""
    reason: str
    """Human-readable reason, used in the one-line announcement."""

    def __post_init__(self):
        if self.name not in BACKENDS:
            raise ValueError(f'BackendChoice.name must be one of {BACKENDS}, got {self.name!r}')


def choose_backend(backend: str | None = None) -> BackendChoice:
    """Resolve the backend from the argument, then `EX_COLOR_BACKEND`; local when neither asks for Modal."""
    if backend is not None:
        return BackendChoice(_validate(backend, 'backend argument'), 'requested by the backend argument')
    forced = os.environ.get(BACKEND_ENV, '').strip()
    if forced:
        return BackendChoice(
            _validate(forced, f'environment variable {BACKEND_ENV}'), f'{BACKEND_ENV}={forced}'
        )
    return BackendChoice(
        'local', f'the default; set {BACKEND_ENV}=modal or pass backend="modal" to use Modal'
    )


def _validate(value: str, source: str) -> Backend:
    if value not in BACKENDS:
        raise ValueError(f'{source}: unknown backend {value!r}; expected one of {", ".join(BACKENDS)}')
    return value  # type: ignore[return-value]


def modal_config_path() -> Path:
    """Where the Modal client reads its config file from."""
    return Path(os.environ.get('MODAL_CONFIG_PATH') or Path.home() / '.modal.toml')


def _profile_settings() -> tuple[str, dict]:
    """(description, settings) of the active profile in the Modal config file; empty if no file."""
    path = modal_config_path()
    if not path.is_file():
        return str(path), {}
    try:
        profiles = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ValueError(f'Modal config file {path}: cannot be read as TOML: {e}') from e
    active = [name for name, values in profiles.items() if isinstance(values, dict) and values.get('active')]
    profile = os.environ.get('MODAL_PROFILE') or (active[0] if active else 'default')
    settings = profiles.get(profile, {})
    return f'{path} (profile {profile!r})', settings if isinstance(settings, dict) else {}


def find_modal_credentials() -> str | None:
    """Describe where Modal credentials are configured, or None. Never touches the network."""
    where, settings = _profile_settings()

    def lookup(key: str) -> tuple[str | None, str]:
        env = f'MODAL_{key.upper()}'
        if os.environ.get(env):
            return os.environ[env], f'${env}'
        if settings.get(key):
            return str(settings[key]), where
        return None, ''

    token_id, id_source = lookup('token_id')
    token_secret, secret_source = lookup('token_secret')
    if token_id and token_secret:
        return id_source if id_source == secret_source else f'{id_source} and {secret_source}'
    refresh, refresh_source = lookup('oauth_refresh_token')
    client_id, _ = lookup('oauth_client_id')
    if refresh and client_id:
        return refresh_source
    return None


async def require_modal_credentials() -> None:
    """Raise `ModalAuthError` at once if Modal cannot authenticate; offline, bounded in time."""
    if find_modal_credentials() is not None:
        return
    detail = await _modal_own_auth_message()
    where = modal_config_path()
    message = (
        f'Modal backend requested but no Modal token is configured (checked $MODAL_TOKEN_ID/$MODAL_TOKEN_SECRET '
        f'and {where}).'
    )
    if detail:
        message += f'\nModal says: {detail}'
    raise ModalAuthError(f'{message}\n{TOKEN_HINT}')


async def _modal_own_auth_message() -> str | None:
    """Modal's own authentication error text, when its client raises it before any network call."""
    try:
        import modal
        from modal.config import config
    except ImportError:
        return 'the modal package is not installed (pip install ".[modal]").'
    # Only ask the client when its own view also lacks credentials: it then raises before connecting.
    if any(config.get(key) for key in ('token_id', 'token_secret', 'oauth_refresh_token', 'oauth_client_id')):
        return None
    try:
        await asyncio.wait_for(modal.Client.from_env.aio(), timeout=3)
    except modal.exception.AuthError as e:
        return str(e)
    except Exception:  # noqa: BLE001 - any other failure just means no extra detail
        return None
    return None
