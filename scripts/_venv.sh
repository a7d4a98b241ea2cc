# Sourced by run.sh and test.sh: .venv/ with the project installed (EXTRAS, e.g. "[dev]").
if [ ! -x .venv/bin/python ]; then
  # Debian's python3 may lack the venv module (package python3-venv): fall back to virtualenv
  python3 -m venv .venv 2>/dev/null || {
    rm -rf .venv
    python3 -m pip install --quiet --user virtualenv && python3 -m virtualenv --quiet .venv
  }
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".${EXTRAS:-}"
