#!/bin/sh
# toy_speed.sh: training speed on the seed's toy, side by side in one run:
# clgan's CPU backend training the `toy` GAN of the peer benchmark
# gan_torch.py (G z(8)->32->32->3 sigmoid, D 3->32->32->1, leaky ReLU 0.2,
# batch 50, Adam(2e-4, 0.5, 0.999), BCE from logits) against PyTorch on the
# same model (`gan_torch.py toy --threads 1`). Both: warm-up iterations, then
# timed windows, median iterations/s; prints both and the ratio.
# clgan is timed with bench/toy_speed.c (public API only; compiled here
# against the build tree) at 1 thread and at the default thread count.
# usage: bench/toy_speed.sh   (run from the build folder)
# environment:
#   BUILD      build folder with libclgan.la and .libs/libclgan.a (default .)
#   SRCDIR     source tree (default: the folder above this script)
#   GAN_TORCH  the peer script (default $SRCDIR/../shared/bench/gan_torch.py)
#   PYTHON     Python with torch (default /usr/bin/python3: Debian's python3-torch)
#   BACKEND    clgan backend (default cpu)
#   THREADS    clgan thread counts to time (default "1 ${OMP_NUM_THREADS:-2}")
#   WARMUP WINDOWS WINDOW_ITERS   (default 100, 10, 500: those of gan_torch.py toy)
#   CC         C compiler (default cc)
here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${SRCDIR:-$(dirname "$here")}
BUILD=${BUILD:-.}
GAN_TORCH=${GAN_TORCH:-$SRCDIR/../shared/bench/gan_torch.py}
PYTHON=${PYTHON:-/usr/bin/python3}
BACKEND=${BACKEND:-cpu}
THREADS=${THREADS:-"1 ${OMP_NUM_THREADS:-2}"}
WARMUP=${WARMUP:-100} WINDOWS=${WINDOWS:-10} WINDOW_ITERS=${WINDOW_ITERS:-500}
CC=${CC:-cc}

lib=$BUILD/.libs/libclgan.a
if [ ! -f "$lib" ] || [ ! -f "$BUILD/libclgan.la" ]; then
    echo "toy_speed: no $lib or $BUILD/libclgan.la: build clgan first, run from the build folder or set BUILD" >&2
    exit 3
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/clgan-toy-speed.XXXXXX") || exit 3
trap 'rm -rf "$tmp"' EXIT
# the libraries libclgan needs, as libtool recorded them at its last link
libs="$(sed -n "s/^dependency_libs='\\(.*\\)'/\\1/p" "$BUILD/libclgan.la") -fopenmp"
# shellcheck disable=SC2086
if ! $CC -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -I"$SRCDIR/include" -o "$tmp/toy_speed" \
    "$SRCDIR/bench/toy_speed.c" "$lib" $libs -lstdc++ 2>"$tmp/cc.log"; then
    # -lstdc++ is for CLBlast in a static link; retry without it
    # shellcheck disable=SC2086
    $CC -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -I"$SRCDIR/include" -o "$tmp/toy_speed" \
        "$SRCDIR/bench/toy_speed.c" "$lib" $libs || { cat "$tmp/cc.log" >&2; exit 3; }
fi

echo "== toy GAN training speed: G z(8)->32->32->3, D 3->32->32->1, batch 50, Adam, BCE"
echo "   $WARMUP warm-up iterations, then $WINDOWS windows of $WINDOW_ITERS; median iterations/s"
echo "   machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
ours=""
for th in $THREADS; do
    echo "-- clgan ($BACKEND, OMP_NUM_THREADS=$th)"
    OMP_NUM_THREADS=$th "$tmp/toy_speed" "$BACKEND" "$WARMUP" "$WINDOWS" "$WINDOW_ITERS" >"$tmp/c.log" || {
        cat "$tmp/c.log"; exit 3; }
    tail -n 1 "$tmp/c.log"
    r=$(sed -n 's/^clgan toy iters\/s median \([0-9.]*\).*/\1/p' "$tmp/c.log")
    ours="$ours $th:$r"
done

echo "-- PyTorch: $PYTHON $GAN_TORCH toy --threads 1"
if [ ! -f "$GAN_TORCH" ]; then
    echo "toy_speed: no $GAN_TORCH (set GAN_TORCH)" >&2
    exit 3
fi
if ! "$PYTHON" -c 'import torch' 2>/dev/null; then
    echo "toy_speed: $PYTHON has no torch (Debian: apt-get install python3-torch; or set PYTHON)" >&2
    exit 3
fi
"$PYTHON" "$GAN_TORCH" toy --threads 1 --warmup "$WARMUP" --windows "$WINDOWS" \
    --window-iters "$WINDOW_ITERS" >"$tmp/t.log" 2>&1 || { cat "$tmp/t.log"; exit 3; }
grep -E '^(GAN training throughput|iters/s median)' "$tmp/t.log"
torch=$(sed -n 's/^iters\/s median ([^)]*) *\([0-9.]*\).*/\1/p' "$tmp/t.log")

echo "== summary (median iterations/s)"
printf '%-34s %12s %10s\n' implementation iters/s ratio
printf '%-34s %12.1f %10s\n' "PyTorch $(sed -n 's/.*(torch \([^,]*\),.*/\1/p' "$tmp/t.log"), 1 thread" "$torch" 1.00
for pair in $ours; do
    th=${pair%%:*} r=${pair#*:}
    printf '%-34s %12.1f %9.2fx\n' "clgan $BACKEND, $th thread(s)" "$r" "$(echo "$r / $torch" | bc -l)"
done
