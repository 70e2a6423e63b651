#!/bin/sh
# Prints the path of the newest working Python >= 3.12, or explains what to install.
# pyenv shims for versions that are not selected exit non-zero, so every candidate
# is actually run instead of trusting its name.
set -u

best=""
best_ver=0

try() {
    cand="$1"
    [ -n "$cand" ] || return 0
    ver=$("$cand" -c 'import sys; print(sys.version_info[0] * 100 + sys.version_info[1]) if sys.version_info >= (3, 12) else print(0)' 2>/dev/null) || return 0
    [ -n "$ver" ] || return 0
    if [ "$ver" -gt "$best_ver" ]; then
        best_ver=$ver
        best=$cand
    fi
}

for name in python3.14 python3.13 python3.12 python3 python; do
    try "$(command -v "$name" 2>/dev/null || true)"
done

if [ -z "$best" ]; then
    roots=""
    if command -v pyenv >/dev/null 2>&1; then
        roots="$(pyenv root 2>/dev/null || true)"
    fi
    roots="$roots ${PYENV_ROOT:-} $HOME/.pyenv"
    for root in $roots; do
        for cand in "$root"/versions/*/bin/python3; do
            [ -x "$cand" ] && try "$cand"
        done
    done
fi

if [ -z "$best" ]; then
    echo "No Python 3.12 or newer found (looked on PATH and in pyenv's versions folder)." >&2
    echo "Install one, for example: apt-get install python3.12 python3.12-venv, or: pyenv install 3.13" >&2
    exit 1
fi
echo "$best"
