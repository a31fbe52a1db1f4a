#!/usr/bin/env bash
# Installs the external peers of the comparison on Debian: Python's asyncio
# and uvloop (Debian's python3-uvloop, run with /usr/bin/python3) and
# Node.js. Needs root (or sudo) and Debian's package archive. Afterwards:
#
#   go -C benchmarks/compare run ./cmd/compare -external
#
# Peers that are already installed are left as they are.
set -euo pipefail

need=()
/usr/bin/python3 -c 'import uvloop' 2>/dev/null || need+=(python3 python3-uvloop)
command -v node >/dev/null 2>&1 || need+=(nodejs)
if [ ${#need[@]} -eq 0 ]; then
	echo "asyncio, uvloop and node are installed"
	exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
/usr/bin/python3 -c 'import uvloop; print("uvloop", uvloop.__version__)'
node --version
