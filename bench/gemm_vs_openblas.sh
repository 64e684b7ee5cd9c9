#!/bin/sh
# gemm_vs_openblas.sh: clgan's GEMM beside OpenBLAS's cblas_sgemm on the
# shapes of `clgan bench gemm`, same thread count, same timing rule (median
# of samples after warm-up), as one table: shape, both GFLOP/s, their ratio.
#
# usage: bench/gemm_vs_openblas.sh [CLGAN_BIN] [clgan bench options...]
#   CLGAN_BIN defaults to $CLGAN_BIN; options go to `clgan bench gemm`
#   (default --backend cpu; e.g. --shapes gan --repeats 20).
#   THREADS (default 2) sets OMP_NUM_THREADS and OPENBLAS_NUM_THREADS.
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

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gemm_vs_openblas.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# OpenBLAS's headers live in different places per distribution; pkg-config
# knows when it is there.
ob_flags=$(pkg-config --cflags --libs openblas 2>/dev/null || echo "-lopenblas")
# shellcheck disable=SC2086
${CC:-cc} -O2 -std=c11 -o "$tmp/openblas_gemm" "$here/openblas_gemm.c" $ob_flags

# clgan first, then OpenBLAS on exactly the shapes clgan reported, never
# both at once.
"$bin" bench gemm --json --backend cpu "$@" >"$tmp/clgan.json"

desc=$(sed -n 's/^{"backend": "[^"]*", "description": "\(.*\)", "repeats": \([0-9]*\), "warmup": \([0-9]*\),.*/\1/p' "$tmp/clgan.json")
repeats=$(sed -n 's/.*"repeats": \([0-9]*\),.*/\1/p' "$tmp/clgan.json" | head -n 1)
warmup=$(sed -n 's/.*"warmup": \([0-9]*\),.*/\1/p' "$tmp/clgan.json" | head -n 1)

# Result lines: {"shape": "L", "m": M, "n": N, "k": K, "trans_a": A, "trans_b": B, ..., "gflops": G}
sed -n 's/^{"shape": "\([^"]*\)", "m": \([0-9]*\), "n": \([0-9]*\), "k": \([0-9]*\), "trans_a": \([01]\), "trans_b": \([01]\),.*"gflops": \([0-9.]*\)}.*/\2 \3 \4 \5 \6 \1	\7/p' \
    "$tmp/clgan.json" >"$tmp/clgan.txt"
if [ ! -s "$tmp/clgan.txt" ]; then
    echo "gemm_vs_openblas.sh: no results from $bin bench gemm --json" >&2
    exit 1
fi
cut -f 1 "$tmp/clgan.txt" | "$tmp/openblas_gemm" "$repeats" "$warmup" >"$tmp/openblas.txt"

echo "GEMM, GFLOP/s (median of $repeats samples after $warmup warm-up calls; 2*m*n*k / time)"
echo "clgan:    $desc"
echo "OpenBLAS: $(sed -n 's/^# OpenBLAS //p' "$tmp/openblas.txt")"
echo "OMP_NUM_THREADS=$OMP_NUM_THREADS OPENBLAS_NUM_THREADS=$OPENBLAS_NUM_THREADS OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)}"
echo
awk -F '\t' '
    FNR == NR { if ($0 !~ /^#/) ob[$1] = $2; next }
    {
        label = $1
        sub(/^[0-9]+ [0-9]+ [0-9]+ [01] [01] /, "", label)
        r = (label in ob && ob[label] > 0) ? $2 / ob[label] : 0
        if (r > 0) { s += log(r); n++ }
        printf "%-24s %9.1f %9.1f %6.2f\n", label, $2, ob[label], r
    }
    BEGIN { printf "%-24s %9s %9s %6s\n", "shape", "clgan", "OpenBLAS", "ratio" }
    END { if (n) printf "%-24s %9s %9s %6.2f\n", "geometric mean", "", "", exp(s / n) }
' "$tmp/openblas.txt" "$tmp/clgan.txt"
