#!/usr/bin/env bash
# Installs the external peers of the comparison on Debian: Python's asyncio
# and uvloop (Debian's python3-uvloop, run with /usr/bin/python3), Node.js,
# and libuv with a C compiler for the C peer (libuv1-dev, gcc). Needs root (or sudo) and Debian's package archive. Afterwards:
#
#   go -C benchmarks/compare run ./cmd/compare -external
#
# Peers that are already installed are left as they are.
set -euo pipefail

need=()
/usr/bin/python3 -c 'import uvloop' 2>/dev/null || need+=(python3 python3-uvloop)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v cc >/dev/null 2>&1 || need+=(gcc libc6-dev)
[ -e /usr/include/uv.h ] || need+=(libuv1-dev)
if [ ${#need[@]} -eq 0 ]; then
	echo "asyncio, uvloop, node and libuv are installed"
	exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
/usr/bin/python3 -c 'import uvloop; print("uvloop", uvloop.__version__)'
node --version
