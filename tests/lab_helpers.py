"""Start `./go lab` headless for a test and stop it; read which figures a committed notebook shows.

The lab tests (tests/test_lab.py through JupyterLab's REST API, tests/test_lab_browser.py through a
browser) reach JupyterLab only this way: `./go lab` itself, on a free port, with a token.

Design decisions:
- Nothing JupyterLab writes lands in the repository or the user's home. Runtime files, workspaces,
  user settings, the notary's signature store and checkpoints all go under the test's folder.
  Checkpoints matter most: opening a notebook makes one, by default in `notebooks/.ipynb_checkpoints/`.
- Autosave is off (a user setting): the tests open committed notebooks, and a notebook JupyterLab
  marks as modified would otherwise be saved over the committed file two minutes later.
- The news prompt is off, so no request leaves the machine and no toast covers a screenshot.
- The notary starts empty, so every notebook opens untrusted, as in a fresh clone (a user's own
  signature store would otherwise decide how outputs render).
- Stopping is SIGTERM, a wait, then SIGKILL of the process group; the caller can check with
  `group_alive` that nothing of the group outlived it.

Deliberately not here: installing JupyterLab (`./go lab` does that; the tests skip without it).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from utils.paths import project_root

ROOT = project_root()
BASH = shutil.which('bash') or '/bin/bash'
GO = ROOT / 'go'
EX_2_10 = ROOT / 'notebooks' / 'ex-2.10-delete-only-red-5d-no-subspace.ipynb'
START_TIMEOUT_S = 240  # generous: `./go lab` first runs a setup if one is due

# JupyterLab user settings, by plugin: what the tests need from the lab beyond its defaults
SETTINGS = {
    '@jupyterlab/docmanager-extension/plugin': {'autosave': False},
    '@jupyterlab/apputils-extension/notification': {'fetchNews': 'false', 'checkForUpdates': False},
}
IMG_SRC = re.compile(r'<img\b[^>]*?\bsrc="([^"]+)"')
PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'


@dataclass(frozen=True)
class Lab:
    """A JupyterLab server started by `./go lab`."""

    base: str
    """``http://127.0.0.1:PORT``, no trailing slash."""
    token: str
    log: Path
    """The server's stdout and stderr."""
    process: subprocess.Popen[bytes]

    def url(self, path: str) -> str:
        """`path` on the server, with the token as a query parameter (a browser keeps it as a cookie)."""
        return f'{self.base}{path}{"&" if "?" in path else "?"}token={self.token}'

    def get(self, path: str, token: str | None = None) -> bytes:
        """The body of GET `path`, authenticated by `token` (default: the server's)."""
        request = urllib.request.Request(
            f'{self.base}{path}', headers={'Authorization': f'token {token or self.token}'}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read()

    def get_json(self, path: str, token: str | None = None) -> Any:
        return json.loads(self.get(path, token))

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors='replace')[-chars:]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def notary_dir(folder: Path) -> Path:
    """Where `running_lab(folder)` keeps the notary's signatures: sign a notebook here to trust it."""
    path = folder / 'notary'
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def running_lab(folder: Path, *args: str) -> Iterator[Lab]:
    """Run `./go lab` (plus `args`) with its files under `folder`; stop it on exit."""
    port, token = free_port(), secrets.token_hex(16)
    settings = folder / 'settings'
    for plugin, values in SETTINGS.items():
        path = settings / f'{plugin}.jupyterlab-settings'
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = {
        **os.environ,
        'JUPYTER_RUNTIME_DIR': str(folder / 'runtime'),
        'JUPYTERLAB_WORKSPACES_DIR': str(folder / 'workspaces'),
        'JUPYTERLAB_SETTINGS_DIR': str(settings),
        'IPYTHONDIR': str(folder / 'ipython'),  # the kernel's history database
    }
    lab_args = [
        '--no-browser',
        f'--port={port}',
        '--ServerApp.port_retries=0',
        '--ServerApp.ip=127.0.0.1',
        f'--IdentityProvider.token={token}',
        # absolute, so every notebook's checkpoint lands here rather than beside the notebook
        f'--FileCheckpoints.checkpoint_dir={folder / "checkpoints"}',
        f'--NotebookNotary.data_dir={notary_dir(folder)}',
        *args,
    ]
    log = folder / 'lab.log'
    with log.open('wb') as out:
        process = subprocess.Popen(
            [BASH, str(GO), 'lab', *lab_args],
            cwd=folder,  # go finds the project from its own path, not the working directory
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    lab = Lab(f'http://127.0.0.1:{port}', token, log, process)
    try:
        _wait_until_serving(lab)
        yield lab
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _wait_until_serving(lab: Lab) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and lab.process.poll() is None:
        try:
            lab.get('/api/status')
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise AssertionError(f'JupyterLab did not answer (exit {lab.process.poll()}):\n{lab.tail()}')


def figures_shown(notebook: Path) -> list[Path]:
    """The file of every `<img>` in `notebook`'s HTML outputs, in order, resolved from its folder."""
    found = []
    for cell in json.loads(notebook.read_text(encoding='utf-8'))['cells']:
        for output in cell.get('outputs', []):
            html = output.get('data', {}).get('text/html', '')
            html = ''.join(html) if isinstance(html, list) else html
            for src in IMG_SRC.findall(html):
                found.append((notebook.parent / unquote(urlsplit(src).path)).resolve())
    return found


def png_width(path: Path) -> int:
    """The width in pixels that `path`'s PNG header declares (the IHDR chunk's first field)."""
    head = path.read_bytes()[:24]
    if head[:8] != PNG_SIGNATURE or head[12:16] != b'IHDR':
        raise ValueError(f'{path}: not a PNG file (no PNG signature and IHDR chunk at its start)')
    return int.from_bytes(head[16:20], 'big')
