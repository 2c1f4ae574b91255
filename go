#!/usr/bin/env bash
# One entry point for every task in this project.
#   ./go setup [--latest] create .venv and install requirements.lock's versions (torch first, CPU build
#                         where on disk), then the project; --latest: the newest versions pyproject allows
#   ./go test             set up if needed, lint, run the test suite and smoke-run every notebook
#   ./go test --oldest    build .venv-oldest with the lowest versions pyproject allows (torch as in
#                         setup), check each direct dependency sits at its floor, run a fast subset
#                         of the tests there (infra/floors.py says which and why)
#   ./go run [ID] [...]   set up if needed and execute a notebook headless, in place (default: ex-2.10)
#   ./go bench [NAME]     run benchmarks/NAME.py; without NAME, list the benchmarks and what each times
#   ./go results          rewrite README's experiment table from the executed notebooks' results
#   ./go verify ID [...]  retrain a notebook's headline (e.g. ex-2.10) here and check each value against
#                         the committed intervals (--first-seed N: on other seeds)
#   ./go site [--open]    set up if needed and build a static site (_site/) of README and the executed
#                         notebooks, as committed (never run); --open serves it and opens a browser
#   ./go lab [ARGS]       set up if needed, install JupyterLab (the lab extra) and open notebooks/ with
#                         the project's kernel; ARGS go to JupyterLab (e.g. --no-browser --port 8899)
#   ./go lock             rewrite requirements.lock from the versions installed in .venv
#   ./go which-python     print the Python that setup builds .venv with
# Browsing Ex 2.10.2's schedule search (an Optuna study): optuna-dashboard is not locked, so install
# it beside the lock's optuna (.venv/bin/pip install -c requirements.lock optuna-dashboard), then
# .venv/bin/optuna-dashboard sqlite:///runs/ex-2.10.2-search.db and open the address it prints.
# Environment: PYTHON=/path/to/python3.12 picks the interpreter (else the first of python3.13,
# python3.12, python3.11, python3 that is >= 3.11); EX_COLOR_UNLOCKED=1 keeps every command on the
# newest versions (without it, a setup returns .venv to the lock); EX_COLOR_TORCH_SPEC overrides torch.
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
PY="$VENV/bin/python"
STAMP="$VENV/.setup-stamp"
# The exact versions a setup installs, written by `./go lock` from the venv that produced the results
# (infra/lock.py says why it is a snapshot and not a resolver's output). infra.requirements.freeze,
# which pins Modal images, walks the same dependency graph: its pins are the lock's runtime part.
LOCK=requirements.lock

unlocked() { [[ -n "${EX_COLOR_UNLOCKED:-}" && "${EX_COLOR_UNLOCKED}" != 0 ]]; }

find_python() {
  # Sets FOUND_PY and FOUND_VERSION to the first candidate that runs, is >= 3.11 (pyproject's
  # requires-python) and can make a venv; each is asked its version, since a name such as a pyenv
  # shim may exist and still not run. With none, says what was tried and how to choose one.
  local cand out major minor tried=()
  local probe='import sys; print("%d.%d.%d" % sys.version_info[:3]); import venv, ensurepip'
  local candidates=(python3.13 python3.12 python3.11 python3)
  [[ -n "${PYTHON:-}" ]] && candidates=("$PYTHON")
  for cand in "${candidates[@]}"; do
    if ! command -v "$cand" >/dev/null 2>&1; then
      tried+=("$cand: not found")
      continue
    fi
    if ! out="$("$cand" -c "$probe" 2>/dev/null)"; then
      if [[ -n "$out" ]]; then
        tried+=("$cand: Python $out without the venv module (Debian/Ubuntu: apt install python3-venv)")
      else
        tried+=("$cand: does not run")
      fi
      continue
    fi
    IFS=. read -r major minor _ <<<"$out"
    if [[ "$major" =~ ^[0-9]+$ && "$minor" =~ ^[0-9]+$ ]] && ((major > 3 || (major == 3 && minor >= 11))); then
      FOUND_PY="$(command -v "$cand")"
      FOUND_VERSION="$out"
      return 0
    fi
    tried+=("$cand: Python $out, older than 3.11")
  done
  {
    echo "go: no usable Python >= 3.11${PYTHON:+ (PYTHON is set, so only it was tried)}. Tried:"
    printf '  %s\n' "${tried[@]}"
    echo "Install Python 3.11 or newer, or name one with PYTHON=, e.g. PYTHON=/usr/bin/python3.12 ./go setup"
  } >&2
  return 1
}

torch_spec() {
  # The torch a venv gets first: EX_COLOR_TORCH_SPEC, else the lock's pin, else pyproject's floor.
  local torch="${EX_COLOR_TORCH_SPEC:-}"
  [[ -n "$torch" || ! -f "$LOCK" ]] || torch="$(grep -i -m1 '^torch==' "$LOCK" | sed 's/[[:space:]].*//')"
  echo "${torch:-torch>=2.13}"
}

stamp_text() {
  # What a finished setup records: the inputs it installed from. Any change re-runs the setup.
  if unlocked; then
    echo 'mode: unlocked (newest versions)'
    cat pyproject.toml
  else
    echo "mode: locked ($LOCK)"
    cat pyproject.toml "$LOCK"
  fi
}

stamp_ok() { [[ -x "$PY" && -f "$STAMP" && -f "$LOCK" ]] && cmp -s "$STAMP" <(stamp_text); }

setup() {
  if stamp_ok; then return 0; fi
  if command -v flock >/dev/null 2>&1; then
    # one setup at a time in this tree: a second waits for the first, then finds its stamp
    exec 9<"$0"
    flock 9
    if ! stamp_ok; then install; fi
    exec 9<&-
  else
    install
  fi
}

install() {
  if [[ ! -f "$LOCK" ]] && ! unlocked; then
    echo "go: $LOCK is missing: ./go setup --latest installs the newest versions, then ./go lock writes it" >&2
    exit 1
  fi
  if [[ -e "$VENV" && ! (-x "$PY" && -f "$STAMP") ]]; then
    # A venv without a stamp is one whose setup never finished: never reuse it half-built.
    echo "==> $VENV is incomplete (an interrupted or failed setup): rebuilding it" >&2
    rm -rf "$VENV"
  fi
  if unlocked; then
    echo "==> setting up $VENV with the newest versions pyproject.toml allows (EX_COLOR_UNLOCKED)" >&2
  else
    echo "==> setting up $VENV with the versions in $LOCK" >&2
  fi
  if [[ ! -e "$VENV" ]]; then
    find_python
    "$FOUND_PY" -m venv "$VENV"
  fi
  # From here until the new stamp is written, an interruption leaves the venv marked incomplete.
  rm -f "$STAMP"
  "$PY" -m pip install -q --upgrade pip >&2
  # Torch first: an unpinned torch pulled in as a dependency would be a multi-GB CUDA build. The
  # lock's pin (2.13.0) lies on this machine's disk as a CPU build; elsewhere pip fetches it from PyPI.
  "$PY" -m pip install -q "$(torch_spec)" >&2 || { unlocked && "$PY" -m pip install -q 'torch>=2.13' >&2; }
  if unlocked; then
    # newest of everything else, torch held at the build just installed
    local held
    held="torch==$("$PY" -c 'from importlib.metadata import version; print(version("torch"))')"
    "$PY" -m pip install -q --upgrade --upgrade-strategy eager -c <(echo "$held") -e '.[dev,modal]' >&2
  else
    # with dependency resolution, so on another platform pip adds what that platform also needs
    "$PY" -m pip install -q -r "$LOCK" >&2
    "$PY" -m pip install -q --no-deps -e . >&2
    if ! "$PY" -m pip check >&2; then
      echo "go: $VENV does not satisfy pyproject.toml: $LOCK is out of date. Install what is missing" >&2
      echo "    (.venv/bin/pip install ..., or ./go setup --latest), then ./go lock" >&2
      exit 1
    fi
  fi
  "$PY" -m ipykernel install --sys-prefix --name python3 >/dev/null
  stamp_text >"$STAMP"
}

# `./go test --oldest` runs in a venv of its own, so .venv keeps the lock's versions.
OLDEST=.venv-oldest
OPY="$OLDEST/bin/python"

oldest_stamp_text() { echo "torch: $(torch_spec)"; cat pyproject.toml; }

setup_oldest() {
  # torch as a setup installs it (a CPU build where on disk), then every other direct dependency at
  # the lowest version pyproject allows (uv's lowest-direct; what they need, at its newest), then the
  # project. Built afresh whenever pyproject changes: an update in place would keep versions a
  # lowered floor no longer forces.
  if [[ -x "$OPY" && -f "$OLDEST/.setup-stamp" ]] && cmp -s "$OLDEST/.setup-stamp" <(oldest_stamp_text); then
    return 0
  fi
  echo "==> setting up $OLDEST with the lowest versions pyproject.toml allows" >&2
  rm -rf "$OLDEST"
  find_python
  "$FOUND_PY" -m venv "$OLDEST"
  "$OPY" -m pip install -q --upgrade pip >&2
  # torch without its dependencies: uv prefers what is installed, so torch's own (jinja2, for one)
  # would stay at the newest versions pip picked instead of the lowest pyproject allows
  "$OPY" -m pip install -q --no-deps "$(torch_spec)" >&2
  "$OPY" -m pip install -q uv packaging >&2
  # Each floor as a pin, torch as installed: lowest-direct alone may lift a direct dependency above
  # its floor to fit a newer transitive one (lightning 2.4.0 refuses fsspec 2026), and then the floor
  # would go untested; with the pins, floors that cannot be installed together are a resolver error.
  "$OPY" -m infra.floors pins pyproject.toml >"$OLDEST/floors.txt"
  "$OPY" -c 'from importlib.metadata import version; print("torch==" + version("torch"))' >>"$OLDEST/floors.txt"
  "$OLDEST/bin/uv" pip install -q --python "$OPY" --resolution lowest-direct -c "$OLDEST/floors.txt" \
    -e '.[dev,modal]' >&2
  oldest_stamp_text >"$OLDEST/.setup-stamp"
}

list_benchmarks() {
  # Each benchmarks/*.py with its docstring's first line; needs any Python >= 3.11, not a set-up venv.
  find_python
  "$FOUND_PY" - benchmarks/*.py <<'EOF'
import ast
import sys
from pathlib import Path

for path in map(Path, sys.argv[1:]):
    doc = ast.get_docstring(ast.parse(path.read_text(), str(path)))
    print(f'  {path.stem:<18} {doc.splitlines()[0] if doc else "(no docstring)"}')
EOF
  echo "Run one with ./go bench NAME [ARGS]; ./go bench NAME --help lists its ARGS."
}

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

cmd="${1:-help}"
shift || true
case "$cmd" in
  setup)
    if [[ "${1:-}" == --latest ]]; then export EX_COLOR_UNLOCKED=1; fi
    setup
    ;;
  lock)
    if [[ ! -x "$PY" ]]; then
      echo "go: no $VENV to lock: ./go setup (or ./go setup --latest) first" >&2
      exit 1
    fi
    "$PY" -m infra.lock pyproject.toml "$LOCK"
    ;;
  which-python)
    find_python
    echo "$FOUND_PY ($FOUND_VERSION)"
    ;;
  lab)
    setup
    if ! "$PY" -c 'import jupyterlab' 2>/dev/null; then
      # The lab extra is not locked (it views notebooks and makes no result; CI never needs it), but
      # it is installed under the lock as a constraint, so it cannot move a locked version.
      echo "==> installing JupyterLab (pyproject.toml's lab extra)" >&2
      reqs=()
      while IFS= read -r req; do reqs+=("$req"); done < <("$PY" -c 'import tomllib
print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["lab"]))')
      if unlocked; then
        "$PY" -m pip install -q "${reqs[@]}" >&2
      else
        "$PY" -m pip install -q -c "$LOCK" "${reqs[@]}" >&2
      fi
    fi
    # exec: the server is this process, so stopping it (Ctrl-C, a signal) stops JupyterLab
    # as root (a container, this project's CI machines) JupyterLab refuses to start without --allow-root
    root=()
    if [[ "$EUID" == 0 ]]; then root=(--allow-root); fi
    # Rooted at the repository, not notebooks/: a notebook shows its figures as ../large-assets/…,
    # and the server serves nothing above its root. The file browser still opens in notebooks/.
    exec "$PY" -m jupyterlab --ServerApp.root_dir="$PWD" --ContentsManager.preferred_dir=notebooks \
      --MappingKernelManager.default_kernel_name=python3 ${root[@]+"${root[@]}"} "$@"
    ;;
  test)
    if [[ "${1:-}" == --oldest ]]; then
      shift
      setup_oldest
      # the floors are checked, then tested whatever the check said, so one run reports both
      floors=0
      "$OPY" -m infra.floors check pyproject.toml || floors=$?
      scratch="$(mktemp -d)"
      trap 'rm -rf "$scratch"' EXIT
      export WANDB_MODE=offline MPLBACKEND=Agg EX_COLOR_BACKEND=local WANDB_DIR="$scratch/wandb" \
        WANDB_CACHE_DIR="$scratch/cache" WANDB_CONFIG_DIR="$scratch/config" WANDB_DATA_DIR="$scratch/data" \
        WANDB_ARTIFACT_DIR="$scratch/artifacts"
      tests=()
      while IFS= read -r t; do tests+=("$t"); done < <("$OPY" -m infra.floors tests)
      # an empty list would make pytest run the whole suite on the oldest versions
      if [[ ${#tests[@]} == 0 ]]; then
        echo "go: python -m infra.floors tests listed no test files" >&2
        exit 1
      fi
      "$OPY" -m pytest -p no:cacheprovider "${tests[@]}" "$@"
      exit "$floors"
    fi
    setup
    # the suite and its smoke runs stay local and offline whatever the caller exported
    export WANDB_MODE=disabled MPLBACKEND=Agg EX_COLOR_BACKEND=local
    "$PY" -m ruff check .
    "$PY" -m ruff format --check --quiet src tests benchmarks infra
    # types over src/ and tests/ (pyproject's [tool.mypy] says which checker and how strict)
    "$PY" -m mypy
    "$PY" -m pytest "$@"
    ;;
  run)
    setup
    "$PY" -m utils.nbrun "${@:-ex-2.10}"
    # an in-place run changed the notebooks' results: the README's table follows them
    if [[ " $* " != *" --smoke "* ]]; then
      "$PY" -m ex_color.experiments.readme README.md
    fi
    ;;
  results)
    setup
    "$PY" -m ex_color.experiments.readme README.md "$@"
    ;;
  verify)
    setup
    "$PY" -m ex_color.experiments.verify "$@"
    ;;
  site)
    setup
    "$PY" -m utils.nb.site "$@"
    ;;
  bench)
    if [[ $# == 0 ]]; then
      echo "Benchmarks (benchmarks/*.py):"
      list_benchmarks
      exit 0
    fi
    name="$1"
    shift
    if [[ ! "$name" =~ ^[A-Za-z0-9_]+$ || ! -f "benchmarks/$name.py" ]]; then
      {
        echo "go: no benchmark '$name' (benchmarks/$name.py). Benchmarks:"
        list_benchmarks
      } >&2
      exit 2
    fi
    setup
    "$PY" "benchmarks/$name.py" "$@"
    ;;
  help | -h | --help)
    usage
    ;;
  *)
    echo "go: unknown command '$cmd'" >&2
    usage >&2
    exit 2
    ;;
esac
