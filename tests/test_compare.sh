#!/bin/sh
# test_compare.sh: `clgan compare` as CI and users run it: CPU against the
# first OpenCL device (exit 0, a readable table, --json), two contexts on one
# device, bad usage and no OpenCL platform (exit 2, one line), and, in a
# --enable-fault-injection build, a planted fault that must give exit 1, name
# the op and make the arbiter blame the perturbed side. Train mode: a short
# lockstep run CPU against OpenCL agrees (exit 0, drift.csv and drift.png);
# so does grid25, whose chaotic jump comes early (the chaos envelope); with
# fault injection built in a planted fault gives exit 1 and names the first
# step and tensor beyond the tolerance.
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
        tail -n 12 "$tmp/out" | sed 's/^/    /'
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
        sed 's/^/    /' "$3" | tail -n 12
    fi
}

# the ops of CLGAN_OP_MAP, counted in the public header
nops=$(sed -n '/define CLGAN_OP_MAP/,/^$/p' "${CLGAN_SRCDIR:?}/include/clgan.h" | grep -c 'XX(')

# ---------------------------------------------------------------- usage
expect "compare --help" 0 "$bin" compare --help
has "compare --help shows usage" "usage: clgan compare" "$tmp/out"
has "compare --help lists the exit codes" "2 could not run" "$tmp/out"
cp "$tmp/out" "$tmp/help"
expect "bad flag" 2 "$bin" compare --no-such-flag
expect "stray argument" 2 "$bin" compare cpu opencl
one_line "stray argument: one line" "takes no arguments"
expect "unknown op" 2 "$bin" compare --op gemm,frobnicate
one_line "unknown op: one line" "unknown op 'frobnicate'"
expect "bad --cases" 2 "$bin" compare --cases 0
expect "train mode: dcgan on point data" 2 "$bin" compare --train 10 --model dcgan --data ring8
one_line "train mode dcgan on point data: one line" "dcgan is for image data sets"
expect "train mode: unknown model" 2 "$bin" compare --train 10 --model resnet
one_line "train mode unknown model: one line" "unknown --model"
expect "train mode: unknown data" 2 "$bin" compare --train 10 --data moons --out "$tmp/x"
one_line "train mode unknown data: one line" "unknown --data 'moons'"
expect "train mode: --train and --quick" 2 "$bin" compare --train 10 --quick
expect "train mode: --op" 2 "$bin" compare --train 10 --op gemm
expect "train mode: no steps" 2 "$bin" compare --data ring8
expect "train mode: bad steps" 2 "$bin" compare --train 0
expect "unknown backend" 2 "$bin" compare --a quantum
one_line "unknown backend: one line" "unknown backend 'quantum'"

# ---------------------------------------------------------------- CPU only
expect "cpu vs cpu" 0 "$bin" compare --a cpu --b cpu --quick
has "cpu vs cpu agrees" "a and b agree" "$tmp/out"
expect "train cpu vs cpu" 0 "$bin" compare --a cpu --b cpu --train 5 --data gray-pixels --out "$tmp/tcc"
has "train cpu vs cpu agrees" "a and b agree" "$tmp/out"
has "train cpu vs cpu: bit-identical" "final NMSE G 0 D 0" "$tmp/out"
if [ -s "$tmp/tcc/drift.csv" ] && [ "$(grep -c . "$tmp/tcc/drift.csv")" -eq 7 ]; then
    ok "train: drift.csv has a header and steps 0-5"
else bad "train: drift.csv missing or wrong length"; fi
has "train: drift.csv header" "^step,nmse_g,nmse_d,max_abs_g,max_abs_d,env_g,env_d" "$tmp/tcc/drift.csv"
has "train: drift.csv has the envelope per tensor" ",env G.l0.weight" "$tmp/tcc/drift.csv"
if [ -s "$tmp/tcc/drift.png" ]; then ok "train: drift.png written"; else bad "train: no drift.png"; fi

# ---------------------------------------------------------------- OpenCL
have_cl=no
if "$bin" devices 2>/dev/null | grep -q "not built in"; then
    echo "# this clgan has no OpenCL backend: compare against OpenCL skipped"
    expect "compare in a CPU-only build" 2 "$bin" compare --quick
    one_line "compare in a CPU-only build: one line" "built without OpenCL"
elif "$bin" devices 2>/dev/null | grep -q -- "--backend opencl:"; then
    have_cl=yes
else
    if [ "${CLGAN_REQUIRE_OPENCL:-0}" = 1 ]; then
        bad "no OpenCL device, but CLGAN_REQUIRE_OPENCL=1"
    else
        echo "# no OpenCL device: compare against OpenCL skipped"
    fi
fi

if [ "$have_cl" = yes ]; then
    start=$(date +%s)
    expect "compare --quick (cpu vs opencl)" 0 "$bin" compare --quick
    took=$(($(date +%s) - start))
    echo "# compare --quick took ${took} s"
    cp "$tmp/out" "$tmp/quick"
    has "table has a header" "max abs.*max rel.*NMSE.*worst element" "$tmp/quick"
    has "table names gemm" "^  gemm " "$tmp/quick"
    has "table names rand_normal" "^  rand_normal " "$tmp/quick"
    rows=$(grep -c -E " ok$" "$tmp/quick")
    if [ "$rows" -eq "$nops" ]; then ok "all $nops ops ok"; else bad "$rows of $nops ops ok"; fi
    has "summary says they agree" "a and b agree" "$tmp/quick"

    expect "two contexts on one device" 0 "$bin" compare --a opencl:0:0 --b opencl:0:0 --quick
    has "two contexts agree" "a and b agree" "$tmp/out"

    expect "compare --json" 0 "$bin" compare --quick --json
    has "json result" '"result": "agree"' "$tmp/out"
    if command -v python3 >/dev/null 2>&1; then
        if python3 -m json.tool "$tmp/out" >/dev/null 2>&1; then ok "json parses"; else bad "json does not parse"; fi
    fi

    start=$(date +%s)
    expect "train --quick (cpu vs opencl, ring8)" 0 "$bin" compare --quick --data ring8 --out "$tmp/tr"
    took=$(($(date +%s) - start))
    echo "# compare --quick --data ring8 (train mode, 20 steps) took ${took} s"
    has "train --quick agrees" "a and b agree" "$tmp/out"
    has "train --quick: step 20 row" "^ *20 .* ok$" "$tmp/out"
    # grid25's chaotic jump can come inside 20 steps (it did at step 6 with an
    # earlier recipe): a fixed schedule failed this correct pair; the measured
    # envelope must not.
    expect "train --quick (cpu vs opencl, grid25): chaos is not a fault" 0 "$bin" compare --quick --data grid25 --out "$tmp/t25"
    expect "train gray-pixels 30 steps" 0 "$bin" compare --train 30 --data gray-pixels --out "$tmp/tg"
    expect "train --json" 0 "$bin" compare --quick --data gray-pixels --json --out "$tmp/tj"
    has "train json: mode" '"mode": "train"' "$tmp/out"
    has "train json: result" '"result": "agree"' "$tmp/out"
    has "train json: no exceedance" '"first_exceedance": null' "$tmp/out"
    if command -v python3 >/dev/null 2>&1; then
        if python3 -m json.tool "$tmp/out" >/dev/null 2>&1; then ok "train json parses"; else bad "train json does not parse"; fi
    fi

    # No OpenCL platform: the ICD loader reads vendors from an empty folder.
    mkdir "$tmp/icd"
    expect "compare without OpenCL" 2 env OCL_ICD_VENDORS="$tmp/icd" "$bin" compare --quick
    one_line "compare without OpenCL: one line" "cannot open --b opencl.*clinfo"
fi

# ---------------------------------------------------------------- planted fault
if ! grep -q "fault injection: built in" "$tmp/help"; then
    echo "# fault injection not built in (configure --enable-fault-injection): planted-fault checks (ops and train mode) skipped"
    if [ "$have_cl" = yes ]; then
        expect "CLGAN_FAULT ignored" 0 env CLGAN_FAULT=sigmoid:opencl "$bin" compare --quick --op sigmoid
        has "CLGAN_FAULT ignored: a warning" "CLGAN_FAULT is ignored" "$tmp/err"
    fi
elif [ "$have_cl" = yes ]; then
    expect "fault in opencl sigmoid: exit 1" 1 env CLGAN_FAULT=sigmoid:opencl "$bin" compare --quick
    has "fault: the table fails sigmoid" "^  sigmoid .*FAIL" "$tmp/out"
    has "fault: the summary names sigmoid" "DISAGREE (sigmoid)" "$tmp/out"
    has "fault: the arbiter blames opencl" "arbiter: a closer, blames b (opencl)" "$tmp/out"
    has "fault: the header says so" "PLANTED FAULT" "$tmp/out"
    n_fail=$(grep -c "FAIL \[" "$tmp/out")
    if [ "$n_fail" -eq 1 ]; then ok "fault: only sigmoid fails"; else bad "fault: $n_fail ops fail"; fi

    expect "fault in cpu gemm: exit 1" 1 env CLGAN_FAULT=gemm:cpu "$bin" compare --quick --op gemm,sigmoid
    has "fault: the summary names gemm" "DISAGREE (gemm)" "$tmp/out"
    has "fault: the arbiter blames cpu" "arbiter: b closer, blames a (cpu)" "$tmp/out"

    expect "fault, json: exit 1" 1 env CLGAN_FAULT=add_row:opencl "$bin" compare --quick --json
    has "fault, json: disagree" '"disagree": \["add_row"\]' "$tmp/out"
    has "fault, json: arbiter" '"closer": "a"' "$tmp/out"

    expect "train, fault in opencl adam: exit 1" 1 env CLGAN_FAULT=adam:opencl "$bin" compare --quick --data ring8 --out "$tmp/fa"
    has "train, adam fault: first step and tensor" "first exceedance: step 1: G l0.weight: NMSE" "$tmp/out"
    has "train, adam fault: summary" "DISAGREE from step 1" "$tmp/out"
    # ring8's recipe uses ReLU layers: a fault in relu must show at once.
    expect "train, fault in opencl relu: exit 1" 1 env CLGAN_FAULT=relu:opencl "$bin" compare --quick --data ring8 --out "$tmp/fl"
    has "train, relu fault: names a tensor" "first exceedance: step [0-9]*: [GD] l[0-9]*\.[a-z]*: NMSE" "$tmp/out"
    expect "train, fault in opencl gemm: exit 1" 1 env CLGAN_FAULT=gemm:opencl "$bin" compare --quick --data grid25 --out "$tmp/fg"
    has "train, gemm fault on grid25: step 1" "DISAGREE from step 1" "$tmp/out"
    expect "train, fault in opencl sigmoid: exit 1" 1 env CLGAN_FAULT=sigmoid:opencl "$bin" compare --quick --data gray-pixels --out "$tmp/fs"
    has "train, sigmoid fault on gray-pixels: step 1" "DISAGREE from step 1" "$tmp/out"
    expect "train, fault, json: exit 1" 1 env CLGAN_FAULT=adam:opencl "$bin" compare --quick --data gray-pixels --json --out "$tmp/fj"
    has "train, fault, json: first exceedance" '"first_exceedance": {"step": 1, "tensor": "G l0.weight"' "$tmp/out"
else
    echo "# fault injection built in but no OpenCL device: planted-fault checks skipped"
fi

echo "compare: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
