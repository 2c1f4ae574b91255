"""Shared by the tests that drive `./go` with a fake interpreter (test_go_setup, test_go_oldest)."""

from __future__ import annotations

import shutil
from pathlib import Path

from utils.paths import project_root

FAKE_PYTHON = """#!/bin/sh
if [ "$1" = -m ] && [ "$2" = venv ]; then
  mkdir -p "$3/bin"
  cat >"$3/bin/python" <<'EOF'
#!/bin/sh
{venv_python}
EOF
  chmod +x "$3/bin/python"
  exit 0
fi
echo 3.11.9
"""
"""An interpreter that says it is Python 3.11.9 and makes venvs whose ``bin/python`` is the given script."""


def project_with_fake_python(tmp_path: Path, venv_python: str) -> Path:
    """A copy of `go`, pyproject.toml and the lock in `tmp_path`, with `fake-python` beside them (the
    caller points PYTHON at it): `FAKE_PYTHON`, whose venvs' ``bin/python`` runs `venv_python` (a
    shell script body, which logs its calls)."""
    for name in ('go', 'pyproject.toml', 'requirements.lock'):
        shutil.copy2(project_root() / name, tmp_path / name)
    fake = tmp_path / 'fake-python'
    fake.write_text(FAKE_PYTHON.replace('{venv_python}', venv_python.strip('\n')))
    fake.chmod(0o755)
    return tmp_path


def run_go(project: Path, *args: str, drop_env: tuple[str, ...], **env: str):
    """`bash project/go ARGS` with PYTHON at the fake, the environment less names starting `drop_env`."""
    import os
    import subprocess

    clean = {k: v for k, v in os.environ.items() if not k.startswith(drop_env)}
    return subprocess.run(
        [shutil.which('bash') or '/bin/bash', str(project / 'go'), *args],
        env={**clean, 'PYTHON': str(project / 'fake-python'), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def logged_calls(venv: Path) -> list[str]:
    """The calls the fake interpreter of `venv` logged, in order."""
    log = venv / 'calls.log'
    return log.read_text().splitlines() if log.exists() else []


def lock_torch_pin(project: Path) -> str:
    """The lock's ``torch==…`` pin, without its comment."""
    line = next(
        x for x in (project / 'requirements.lock').read_text().splitlines() if x.startswith('torch==')
    )
    return line.split()[0]
