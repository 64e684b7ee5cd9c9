#!/bin/sh
# test_cli.sh: the clgan command line as a user meets it: help and version,
# bad commands and flags (one line on stderr, exit 2), `devices`, `selftest`
# on the CPU, and what happens with no OpenCL platform at all.
set -u
bin=${CLGAN_BIN:?CLGAN_BIN must name the clgan binary}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }

# expect NAME WANT_STATUS CMD...: runs CMD, checks its exit status.
expect() {
    name=$1 want=$2
    shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" -eq "$want" ]; then ok "$name"; else
        bad "$name (exit $got, want $want)"
        sed 's/^/    /' "$tmp/err" | head -5
    fi
}

# one_line NAME PATTERN: stderr of the last command is one line matching PATTERN.
one_line() {
    if [ "$(grep -c . "$tmp/err")" -eq 1 ] && grep -q -- "$2" "$tmp/err"; then ok "$1"; else
        bad "$1: stderr was:"
        sed 's/^/    /' "$tmp/err" | head -5
    fi
}

# has NAME PATTERN FILE
has() {
    if grep -q -- "$2" "$3"; then ok "$1"; else
        bad "$1: no '$2' in:"
        sed 's/^/    /' "$3" | head -8
    fi
}

expect "--help" 0 "$bin" --help
has "--help lists devices" "devices" "$tmp/out"
expect "--version" 0 "$bin" --version
has "--version prints it" "clgan [0-9]" "$tmp/out"
expect "no command" 2 "$bin"
expect "unknown command" 2 "$bin" frobnicate
one_line "unknown command: one line" "unknown command 'frobnicate'"
for cmd in devices selftest bench; do
    expect "$cmd --help" 0 "$bin" $cmd --help
    has "$cmd --help shows usage" "usage: clgan $cmd" "$tmp/out"
done
expect "bad flag" 2 "$bin" selftest --no-such-flag
expect "bad --cases" 2 "$bin" selftest --cases -3
one_line "bad --cases: one line" "--cases wants a whole number"
expect "stray argument" 2 "$bin" devices extra
one_line "stray argument: one line" "takes no arguments"

expect "devices" 0 "$bin" devices
has "devices lists the CPU backend" "--backend cpu" "$tmp/out"
has "devices says what auto picks" "auto picks" "$tmp/out"

expect "selftest on the CPU" 0 env OMP_NUM_THREADS=2 "$bin" selftest --backend cpu --cases 2
has "selftest names gemm" "gemm" "$tmp/out"
has "selftest reports 0 failures" "0 ops failed" "$tmp/out"

expect "unknown backend" 3 "$bin" selftest --backend quantum
one_line "unknown backend: one line" "unknown backend 'quantum'"
expect "bad CLGAN_BACKEND" 3 env CLGAN_BACKEND=opencl:: "$bin" bench gemm --shapes square --repeats 1 --warmup 0
has "bad CLGAN_BACKEND named" "CLGAN_BACKEND" "$tmp/err"

# No OpenCL platform: the ICD loader reads vendors from an empty folder.
mkdir "$tmp/icd"
expect "devices without OpenCL" 0 env OCL_ICD_VENDORS="$tmp/icd" "$bin" devices
has "devices says there is no OpenCL" "OpenCL" "$tmp/out"
has "auto falls back to the CPU" "auto picks: cpu" "$tmp/out"
if "$bin" devices 2>/dev/null | grep -q "not built in"; then
    echo "# this clgan has no OpenCL backend: OpenCL error checks skipped"
    expect "opencl in a CPU-only build" 3 "$bin" selftest --backend opencl
    one_line "opencl in a CPU-only build: one line" "built without OpenCL"
else
    expect "opencl without a platform" 3 env OCL_ICD_VENDORS="$tmp/icd" "$bin" selftest --backend opencl
    one_line "opencl without a platform: one line" "clinfo"
fi

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
