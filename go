#!/usr/bin/env bash
# One entry point for every task in this project.
#   ./go setup            create .venv and install the project (torch first, CPU build where on disk)
#   ./go test             set up if needed, lint, run the test suite and smoke-run every notebook
#   ./go run [ID] [...]   set up if needed and execute a notebook headless, in place (default: ex-2.10)
#   ./go bench NAME       run benchmarks/NAME.py
#   ./go results          rewrite README's experiment table from the executed notebooks' results
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
PY="$VENV/bin/python"
TORCH_SPEC="${EX_COLOR_TORCH_SPEC:-torch==2.13.0}"

stamp_ok() {
  # Re-install only when pyproject.toml changed since the last successful setup.
  [[ -x "$PY" && -f "$VENV/.setup-stamp" ]] && cmp -s pyproject.toml "$VENV/.setup-stamp"
}

setup() {
  if stamp_ok; then return 0; fi
  echo "==> setting up $VENV" >&2
  [[ -x "$PY" ]] || python3 -m venv "$VENV"
  "$PY" -m pip install -q --upgrade pip >&2
  # Torch first: an unpinned torch pulled in as a dependency would be a multi-GB CUDA build.
  # The pinned version lies on this machine's disk; elsewhere pip fetches it from PyPI.
  if ! "$PY" -c 'import torch' 2>/dev/null; then
    "$PY" -m pip install -q "$TORCH_SPEC" >&2 || "$PY" -m pip install -q 'torch>=2.6' >&2
  fi
  "$PY" -m pip install -q -e '.[dev,modal]' >&2
  "$PY" -m ipykernel install --sys-prefix --name python3 >/dev/null
  cp pyproject.toml "$VENV/.setup-stamp"
}

cmd="${1:-help}"
shift || true
case "$cmd" in
  setup)
    setup
    ;;
  test)
    setup
    # the suite and its smoke runs stay local and offline whatever the caller exported
    export WANDB_MODE=disabled MPLBACKEND=Agg EX_COLOR_BACKEND=local
    "$PY" -m ruff check .
    "$PY" -m ruff format --check --quiet src tests benchmarks infra
    "$PY" -m pytest "$@"
    ;;
  run)
    setup
    "$PY" -m utils.nbrun "${@:-ex-2.10}"
    # an in-place run changed the notebooks' results: the README's table follows them
    if [[ " $* " != *" --smoke "* ]]; then
      "$PY" -m ex_color.experiments.readme README.md notebooks/*.ipynb
    fi
    ;;
  results)
    setup
    "$PY" -m ex_color.experiments.readme README.md notebooks/*.ipynb "$@"
    ;;
  bench)
    setup
    name="${1:?usage: ./go bench NAME}"
    shift
    "$PY" "benchmarks/$name.py" "$@"
    ;;
  help | -h | --help)
    sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
    ;;
  *)
    echo "go: unknown command '$cmd'" >&2
    sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
