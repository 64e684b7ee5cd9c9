#!/bin/sh
# gemm_vs_openblas.sh: clgan's GEMM beside OpenBLAS's cblas_sgemm on the
# shapes of `clgan bench gemm`, same thread count, same timing rule (median
# of samples after warm-up), as one table: shape, both GFLOP/s, their ratio.
#
# usage: bench/gemm_vs_openblas.sh [CLGAN_BIN] [clgan bench options...]
#   CLGAN_BIN defaults to $CLGAN_BIN; options go to `clgan bench gemm`
#   (default --backend cpu; e.g. --shapes gan --repeats 20).
#   THREADS (default 2) sets OMP_NUM_THREADS and OPENBLAS_NUM_THREADS.
#   ROUNDS (default 1): run both sides that many times, alternating, and
#   keep each side's best median per shape (for machines shared with other
#   work, where one slow stretch would otherwise decide a ratio).
#   Needs a C compiler and OpenBLAS (libopenblas-dev).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
bin=${CLGAN_BIN:-}
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
    bin=$1
    shift
fi
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
    echo "gemm_vs_openblas.sh: give the clgan binary as first argument or in CLGAN_BIN" >&2
    exit 2
fi

threads=${THREADS:-2}
OMP_NUM_THREADS=$threads
OPENBLAS_NUM_THREADS=$threads
export OMP_NUM_THREADS OPENBLAS_NUM_THREADS

loadavg() { cut -d ' ' -f 1-3 /proc/loadavg 2>/dev/null || echo '?'; }
load_before=$(loadavg)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gemm_vs_openblas.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# OpenBLAS's headers live in different places per distribution; pkg-config
# knows when it is there.
ob_flags=$(pkg-config --cflags --libs openblas 2>/dev/null || echo "-lopenblas")
# shellcheck disable=SC2086
${CC:-cc} -O2 -std=c11 -o "$tmp/openblas_gemm" "$here/openblas_gemm.c" $ob_flags

rounds=${ROUNDS:-1}
case $rounds in
'' | *[!0-9]* | 0)
    echo "gemm_vs_openblas.sh: ROUNDS wants a whole number >= 1, not '$rounds'" >&2
    exit 2
    ;;
esac

# clgan first, then OpenBLAS on exactly the shapes clgan reported, never
# both at once.
r=1
while [ "$r" -le "$rounds" ]; do
    "$bin" bench gemm --json --backend cpu "$@" >"$tmp/clgan.json"
    # Result lines: {"shape": "L", "m": M, "n": N, "k": K, "trans_a": A,
    # "trans_b": B, ..., "gflops": G} -> "M N K A B L<TAB>G"
    sed -n 's/^{"shape": "\([^"]*\)", "m": \([0-9]*\), "n": \([0-9]*\), "k": \([0-9]*\), "trans_a": \([01]\), "trans_b": \([01]\),.*"gflops": \([0-9.]*\)}.*/\2 \3 \4 \5 \6 \1	\7/p' \
        "$tmp/clgan.json" >"$tmp/clgan.$r.txt"
    if [ ! -s "$tmp/clgan.$r.txt" ]; then
        echo "gemm_vs_openblas.sh: no results from $bin bench gemm --json" >&2
        exit 1
    fi
    if [ "$r" -eq 1 ]; then
        desc=$(sed -n 's/^{"backend": "[^"]*", "description": "\(.*\)", "repeats": .*/\1/p' "$tmp/clgan.json")
        repeats=$(sed -n 's/.*"repeats": \([0-9]*\),.*/\1/p' "$tmp/clgan.json" | head -n 1)
        warmup=$(sed -n 's/.*"warmup": \([0-9]*\),.*/\1/p' "$tmp/clgan.json" | head -n 1)
    fi
    cut -f 1 "$tmp/clgan.$r.txt" | "$tmp/openblas_gemm" "$repeats" "$warmup" >"$tmp/openblas.$r.txt"
    r=$((r + 1))
done

best=""
[ "$rounds" -gt 1 ] && best=", best of $rounds alternated rounds"
echo "GEMM, GFLOP/s (median of $repeats samples after $warmup warm-up calls$best; 2*m*n*k / time)"
echo "clgan:    $desc"
echo "OpenBLAS: $(sed -n 's/^# OpenBLAS //p' "$tmp/openblas.1.txt")"
echo "OMP_NUM_THREADS=$OMP_NUM_THREADS OPENBLAS_NUM_THREADS=$OPENBLAS_NUM_THREADS OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)}"
# How OpenMP threads wait decides clgan's speed when other processes load
# the cores (libgomp's default spins about 300000 rounds before sleeping).
echo "OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-(unset)} GOMP_SPINCOUNT=${GOMP_SPINCOUNT:-(unset)}"
echo "load average before: $load_before, after: $(loadavg)"
echo
# Label -> best GFLOP/s per side; rows in clgan's order.
cat "$tmp"/openblas.*.txt | grep -v '^#' >"$tmp/openblas.all"
cat "$tmp"/clgan.*.txt >"$tmp/clgan.all"
awk -F '\t' '
    FILENAME == ARGV[1] { if ($2 > ob[$1]) ob[$1] = $2; next }
    {
        label = $1
        sub(/^[0-9]+ [0-9]+ [0-9]+ [01] [01] /, "", label)
        if (!(label in cl)) order[n_rows++] = label
        if ($2 > cl[label]) cl[label] = $2
    }
    END {
        printf "%-24s %9s %9s %6s\n", "shape", "clgan", "OpenBLAS", "ratio"
        for (i = 0; i < n_rows; i++) {
            label = order[i]
            r = (label in ob && ob[label] > 0) ? cl[label] / ob[label] : 0
            if (r > 0) { s += log(r); n++ }
            printf "%-24s %9.1f %9.1f %6.2f\n", label, cl[label], ob[label], r
        }
        if (n) printf "%-24s %9s %9s %6.2f\n", "geometric mean", "", "", exp(s / n)
    }
' "$tmp/openblas.all" "$tmp/clgan.all"
