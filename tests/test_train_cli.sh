#!/bin/sh
# test_train_cli.sh: `clgan train` and `clgan demo` refuse bad flags and
# values with exit status 2 and exactly one line on stderr, never a crash;
# --help works; a tiny run writes its folder.
: "${CLGAN_BIN:?CLGAN_BIN must point at the clgan binary}"
fails=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/clgan-train-cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# expect_usage DESCRIPTION ARGS...: exit 2 and a single "clgan: " line.
expect_usage() {
    what=$1
    shift
    "$CLGAN_BIN" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    lines=$(wc -l <"$tmp/err")
    if [ "$rc" -ne 2 ] || [ "$lines" -ne 1 ] || ! grep -q '^clgan: ' "$tmp/err"; then
        echo "FAIL: $what: exit $rc, $lines stderr lines:"
        cat "$tmp/err"
        fails=$((fails + 1))
    else
        echo "ok: $what: $(cat "$tmp/err")"
    fi
}

expect_usage "no --data" train --out "$tmp/r"
expect_usage "no --out" train --data ring8
expect_usage "unknown data set" train --data mnist9 --out "$tmp/r"
expect_usage "negative steps" train --data ring8 --steps -5 --out "$tmp/r"
expect_usage "zero steps" train --data ring8 --steps 0 --out "$tmp/r"
expect_usage "steps not a number" train --data ring8 --steps ten --out "$tmp/r"
expect_usage "lr of 0" train --data ring8 --lr 0 --out "$tmp/r"
expect_usage "negative lr" train --data ring8 --lr -1e-3 --out "$tmp/r"
expect_usage "lr not a number" train --data ring8 --lr fast --out "$tmp/r"
expect_usage "batch larger than memory" train --data ring8 --batch 99999999999 --out "$tmp/r"
expect_usage "batch larger than the data set" train --data gray-pixels --batch 64 --out "$tmp/r"
expect_usage "batch not a multiple of pack" train --data ring8 --batch 255 --out "$tmp/r"
expect_usage "unknown loss" train --data ring8 --loss wgan --out "$tmp/r"
expect_usage "unknown optimizer" train --data ring8 --optim rmsprop --out "$tmp/r"
expect_usage "zero d-steps" train --data ring8 --d-steps 0 --out "$tmp/r"
expect_usage "bad label smoothing" train --data ring8 --label-smooth 0.7 --out "$tmp/r"
expect_usage "unknown option" train --data ring8 --frobnicate --out "$tmp/r"
expect_usage "missing value" train --data
expect_usage "stray argument" train --data ring8 --out "$tmp/r" extra
expect_usage "demo unknown option" demo --fast
expect_usage "demo stray argument" demo now

for cmd in train demo; do
    if ! "$CLGAN_BIN" $cmd --help >"$tmp/out" 2>&1 || ! grep -q "usage: clgan $cmd" "$tmp/out"; then
        echo "FAIL: $cmd --help"
        fails=$((fails + 1))
    fi
done

# A tiny run: exit 0 and the run folder's files.
if "$CLGAN_BIN" train --data grid25 --steps 20 --log-every 10 --backend cpu --out "$tmp/run" \
    >"$tmp/out" 2>"$tmp/err"; then
    for f in config.json log.csv samples.png curves.png metrics.json samples.csv; do
        if [ ! -s "$tmp/run/$f" ]; then
            echo "FAIL: tiny run: no $f"
            fails=$((fails + 1))
        fi
    done
    [ "$(wc -l <"$tmp/run/samples.csv")" -eq 2501 ] || { echo "FAIL: samples.csv rows"; fails=$((fails + 1)); }
else
    echo "FAIL: tiny run exited $?:"
    cat "$tmp/err"
    fails=$((fails + 1))
fi

[ "$fails" -eq 0 ] && echo "test_train_cli: all passed"
[ "$fails" -eq 0 ]
