#!/bin/sh
# What `make install` (and so `make run`, `make test`, `make lint`) needs before it makes the
# virtual environment: Python 3.11 or newer with its venv module, and Node.js with npm for
# the map's browser libraries. Each missing piece is said in one line; exit status 1 if any.
#
#   sh scripts/check_prereqs.sh PYTHON VENV_DIR
#
# Plain POSIX sh and shell built-ins only: on a fresh machine this runs before anything else
# exists, so it must not itself need what it checks for.

python=${1:-python3}
venv=${2:-.venv}
missing=0

say() {
    echo "herdwatch needs $*" >&2
    missing=1
}

check_python() {
    if ! command -v "$python" >/dev/null 2>&1; then
        say "Python 3.11 or newer, and '$python' is not on the PATH: install it (e.g. apt install python3 python3-venv) or run make PYTHON=/path/to/python3.11"
        return 1
    fi
    # --version rather than a -c snippet: it works on any Python, 2 included (which prints
    # it on stderr), so an old interpreter is named instead of failing on syntax.
    version=$("$python" --version 2>&1)
    version=${version#Python }
    major=${version%%.*}
    rest=${version#*.}
    minor=${rest%%.*}
    case "$major.$minor" in
    *[!0-9.]* | .* | *.)
        say "Python 3.11 or newer, and '$python --version' said '$version': run make PYTHON=/path/to/python3.11"
        return 1
        ;;
    esac
    if [ "$major" -lt 3 ] || { [ "$major" -eq 3 ] && [ "$minor" -lt 11 ]; }; then
        say "Python 3.11 or newer, and '$python' is $version: install a newer one (e.g. apt install python3.11 python3.11-venv) and run make PYTHON=python3.11"
        return 1
    fi
}

check_venv_module() {
    # Debian and Ubuntu ship venv without ensurepip (package python3.X-venv), and
    # `python -m venv` then stops half-way with a traceback-like message.
    if ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
        say "Python's venv module with ensurepip to make $venv: install it, e.g. apt install python$major.$minor-venv"
    fi
}

if [ ! -x "$venv/bin/python" ]; then
    check_python && check_venv_module
fi
if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
    say "Node.js with npm (for the map's browser libraries): install it, e.g. apt install nodejs npm"
fi
exit "$missing"
