#!/usr/bin/env bash
# Install the Debian packages given as arguments that are not installed yet.
# Usage: scripts/install-deps.sh pkg1 pkg2 ...
# As root: apt-get update once, then a non-interactive install of the missing packages.
# Not root: print the command to run and exit 1.
# DRY_RUN=1 prints the apt-get commands instead of running them (for testing this script).
set -euo pipefail

if [[ $# -eq 0 ]]; then
    echo "usage: $0 package..." >&2
    exit 2
fi

missing=()
for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "deps: all $# packages present"
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    echo "deps: missing ${#missing[@]} of $# packages (${missing[*]}); not root, run:" >&2
    echo "sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
    exit 1
fi

echo "deps: installing ${#missing[@]} of $# packages: ${missing[*]}"
run() {
    if [[ ${DRY_RUN:-0} == 1 ]]; then
        echo "+ $*"
    else
        "$@"
    fi
}
run apt-get update -q
run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
