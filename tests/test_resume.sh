#!/bin/sh
# test_resume.sh: checkpoints from the command line: exact resume (200 steps
# in one process equal 100 + checkpoint + resume + 100, bit for bit, mid-epoch
# and at an epoch boundary; on OpenCL too when a device opens), checkpoints
# read by hand with Python/numpy, sampling across backends, scoring images,
# NaN handling, and kill -9 at random moments: the newest checkpoint always
# loads and resumes.
set -u
B=${CLGAN_BIN:-./clgan}
PY=${PYTHON:-/usr/bin/python3}
TOOL=${CLGAN_SRCDIR:-.}/tests/ckpt_tool.py
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
have_np=0
"$PY" -c "import numpy" 2>/dev/null && have_np=1

# exact_resume BACKEND N_DATA LABEL: 200 steps vs 100 + resume + 100.
exact_resume() {
    be=$1 n=$2 label=$3 d=$tmp/$label
    common="--data gray-pixels --n-data $n --log-every 10 --checkpoint-every 50 --backend $be"
    $B train $common --steps 200 --out "$d.a" >/dev/null 2>"$d.err" || { bad "$label: straight run"; cat "$d.err"; return; }
    $B train $common --steps 100 --out "$d.b" >/dev/null 2>"$d.err" || { bad "$label: first half"; cat "$d.err"; return; }
    $B train --resume "$d.b" --steps 200 --backend "$be" >/dev/null 2>"$d.err" || { bad "$label: resume"; cat "$d.err"; return; }
    cut -d, -f1-5 "$d.a/log.csv" >"$d.la"
    cut -d, -f1-5 "$d.b/log.csv" >"$d.lb"
    cmp -s "$d.la" "$d.lb" || bad "$label: loss columns of log.csv differ"
    [ "$(wc -l <"$d.la")" -eq 21 ] || bad "$label: log.csv has $(wc -l <"$d.la") lines, want 21"
    if [ $have_np -eq 1 ]; then
        "$PY" "$TOOL" same "$d.a/checkpoint_00000200.safetensors" "$d.b/checkpoint_00000200.safetensors" ||
            bad "$label: parameters or optimizer state differ"
    fi
    echo "exact resume $label: ok"
}
exact_resume cpu 150 cpu-mid-epoch      # 3 batches per epoch: step 100 is inside epoch 33
exact_resume cpu 100 cpu-epoch-boundary # 2 batches per epoch: step 100 ends epoch 50

ocl=0
if $B train --data gray-pixels --steps 2 --out "$tmp/probe" --backend opencl >/dev/null 2>"$tmp/probe.err"; then
    exact_resume opencl 150 opencl-mid-epoch && ocl=$((ocl + 1))
    exact_resume opencl 100 opencl-epoch-boundary && ocl=$((ocl + 1))
    # written on OpenCL, sampled on the CPU; and the other way round
    $B sample --checkpoint "$tmp/opencl-mid-epoch.a/checkpoint_00000200.safetensors" --backend cpu \
        --out "$tmp/x1.png" --csv "$tmp/x1.csv" >/dev/null || bad "OpenCL checkpoint on the CPU"
    $B sample --checkpoint "$tmp/cpu-mid-epoch.a/checkpoint_00000200.safetensors" --backend opencl \
        --out "$tmp/x2.png" >/dev/null 2>&1 || bad "CPU checkpoint on OpenCL"
    ocl=$((ocl + 1))
    echo "resume: $ocl OpenCL cases ran"
else
    echo "resume: 0 OpenCL cases ran (skipped: no OpenCL device opens: $(tail -n 1 "$tmp/probe.err"))"
    [ "${CLGAN_REQUIRE_OPENCL:-0}" = 1 ] && bad "OpenCL required but no device opens"
fi

# sample on the CPU, with points as CSV
ck=$tmp/cpu-mid-epoch.a/checkpoint_00000200.safetensors
$B sample --checkpoint "$ck" --n 16 --out "$tmp/s.png" --csv "$tmp/s.csv" --backend cpu >/dev/null || bad "sample"
[ "$(wc -l <"$tmp/s.csv")" -eq 17 ] || bad "sample: CSV rows"
if [ $have_np -eq 1 ]; then
    "$PY" "$TOOL" show "$ck" | grep "^G.l0.weight \[32, 8\]" >/dev/null || bad "numpy: G.l0.weight [32, 8]"
fi

# a NaN stops the run with exit 3 naming the step and the network
$B train --data ring8 --steps 300 --lr 10 --optim sgd --log-every 10 --out "$tmp/nan" --backend cpu >/dev/null 2>"$tmp/nan.err"
rc=$?
if [ $rc -eq 3 ] && grep -q "step [0-9]*: .*network [DG]" "$tmp/nan.err"; then
    echo "nan stop: ok ($(tail -n 1 "$tmp/nan.err"))"
elif [ $rc -eq 0 ]; then
    echo "nan stop: skipped (no NaN at lr 10)"
else
    bad "nan stop: exit $rc"; cat "$tmp/nan.err"
fi

# score: a tiny image model trained on a folder of PGM files
mkdir -p "$tmp/img"
i=0
while [ $i -lt 8 ]; do
    { printf 'P2\n4 4\n255\n'; j=0; while [ $j -lt 16 ]; do printf '%d ' $(( (i * 31 + j * 17) % 256 )); j=$((j + 1)); done; echo; } >"$tmp/img/f$i.pgm"
    i=$((i + 1))
done
if $B train --data "folder:$tmp/img" --size 4 --batch 4 --steps 4 --out "$tmp/imgrun" --backend cpu >/dev/null 2>"$tmp/img.err"; then
    $B score --checkpoint "$tmp/imgrun/checkpoint_00000004.safetensors" --backend cpu "$tmp/img/f0.pgm" "$tmp/img/f1.pgm" >"$tmp/score.out" ||
        bad "score"
    [ "$(grep -c '^0\.[0-9]*  ' "$tmp/score.out")" -eq 2 ] || bad "score: output $(cat "$tmp/score.out")"
    $B sample --checkpoint "$tmp/imgrun/checkpoint_00000004.safetensors" --n 4 --out "$tmp/g.png" --backend cpu >/dev/null ||
        bad "sample: image grid"
else
    bad "image run for score"; cat "$tmp/img.err"
fi

# a corrupt checkpoint is refused
printf 'not a checkpoint' >"$tmp/bad.safetensors"
$B sample --checkpoint "$tmp/bad.safetensors" --out "$tmp/b.png" --backend cpu >/dev/null 2>&1
[ $? -eq 3 ] || bad "corrupt checkpoint not refused with exit 3"

# kill -9 at random moments while checkpointing often
k=0 ok=0
while [ $k -lt 20 ]; do
    d=$tmp/kill$k
    $B train --data gray-pixels --n-data 100 --steps 100000 --log-every 50 --checkpoint-every 7 --keep 2 \
        --out "$d" --backend cpu >/dev/null 2>&1 &
    pid=$!
    sleep "0.$(( (k * 37) % 9 + 1 ))$(( k % 10 ))"
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    if ls "$d"/checkpoint_*.safetensors >/dev/null 2>&1; then
        last=$(ls "$d"/checkpoint_*.safetensors | tail -n 1)
        step=$(basename "$last" .safetensors | sed 's/checkpoint_0*//')
        if $B train --resume "$d" --steps $((step + 3)) --backend cpu >/dev/null 2>"$d.err"; then
            ok=$((ok + 1))
        else
            bad "kill $k: resume from $last"; cat "$d.err"
        fi
    else
        ok=$((ok + 1)) # killed before the first checkpoint: nothing to load
    fi
    k=$((k + 1))
done
echo "kill -9: $ok of 20 runs resumed from their newest checkpoint"

[ $fail -eq 0 ] && echo "resume: all passed"
exit $fail
