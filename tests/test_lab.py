"""`./go lab`: JupyterLab serves notebooks/ with the project's kernel, and stops when told to.

The server is started headless through `./go lab` itself, on a free port with a token, and asked
through its REST API for the notebooks it serves and its default kernel. It is stopped (SIGTERM, then
a wait) in a `finally`, and the test checks that nothing of its process group is left behind.

Skipped where JupyterLab is not installed: the lab extra is not in requirements.lock, so CI (which
installs only the lock) skips this test; `./go lab` installs the extra on first use.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from utils.paths import project_root

ROOT = project_root()
BASH = shutil.which('bash') or '/bin/bash'

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec('jupyterlab') is None,
    reason='jupyterlab is not installed in this venv (the lab extra is not locked; ./go lab installs it)',
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def get_json(url: str, token: str) -> dict:
    request = urllib.request.Request(url, headers={'Authorization': f'token {token}'})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_go_lab_serves_the_notebooks_with_the_projects_kernel(tmp_path):
    port, token = free_port(), secrets.token_hex(16)
    log = tmp_path / 'lab.log'
    env = {
        **os.environ,
        'JUPYTER_RUNTIME_DIR': str(tmp_path / 'runtime'),  # server files here, not in the user's home
        'JUPYTERLAB_WORKSPACES_DIR': str(tmp_path / 'workspaces'),
    }
    args = ['--no-browser', f'--port={port}', '--ServerApp.port_retries=0', '--ServerApp.ip=127.0.0.1']
    with log.open('w') as out:
        proc = subprocess.Popen(
            [BASH, str(ROOT / 'go'), 'lab', *args, f'--IdentityProvider.token={token}'],
            cwd=tmp_path,  # go finds the project from its own path, not the working directory
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = f'http://127.0.0.1:{port}'
        listing = None
        deadline = time.monotonic() + 240  # generous: `./go lab` first runs a setup if one is due
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                listing = get_json(f'{base}/api/contents/', token)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        assert listing is not None, (
            f'JupyterLab did not answer (exit {proc.poll()}):\n{log.read_text()[-3000:]}'
        )
        served = {item['name'] for item in listing['content'] if item['type'] == 'notebook'}
        assert served == {p.name for p in (ROOT / 'notebooks').glob('*.ipynb')}

        kernels = get_json(f'{base}/api/kernelspecs', token)
        assert kernels['default'] == 'python3'
        argv0 = kernels['kernelspecs']['python3']['spec']['argv'][0]
        assert Path(argv0).absolute() == Path(sys.executable).absolute()  # the venv's interpreter

        with pytest.raises(urllib.error.HTTPError):  # and the token is required
            get_json(f'{base}/api/contents/', 'wrong-token')
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    assert not group_alive(proc.pid), 'a process started by ./go lab outlived it'
