#!/bin/sh
# quickstart.sh demo|test: the README's two set-up commands on Debian 12.
# Installs the Debian packages clgan needs that are missing (apt-get, as root
# or through sudo), builds clgan in this folder, then runs the main job
# (demo) or the whole test suite (test).
set -eu
mode=${1:-demo}
case "$mode" in
demo|test) ;;
*) echo "usage: sh build-aux/quickstart.sh demo|test" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."

pkgs="gcc make autoconf automake libtool pkg-config zlib1g-dev check
      ocl-icd-opencl-dev opencl-headers libclblast-dev pocl-opencl-icd clinfo
      libpng-dev libjpeg62-turbo-dev libjansson-dev dataset-fashion-mnist python3-numpy"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "quickstart: installing:$missing"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -q
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
fi

[ -x configure ] || autoreconf -fi
[ -f Makefile ] || ./configure
jobs=$(nproc 2>/dev/null || echo 2)
make -j"$jobs"

if [ "$mode" = demo ]; then
    ./clgan devices
    ./clgan selftest --cases 1
    ./clgan demo
else
    make -j"$jobs" check
fi
