#!/bin/sh
# toy_quality.sh: the quality bars of issue 3 on the default recipes:
# `clgan train --data SET --seed S` with every other setting at its default,
# 5 seeds per data set, one table row per seed, then the averages.
#   ring8:       8/8 modes in every seed, >= 90% high-quality samples on average
#   grid25:      >= 24/25 modes and >= 85% high-quality samples on average
#   gray-pixels: generated per-channel mean within 0.02 of the data's,
#                covariance entries within 0.006 of the data's (its variances are ~0.008)
# usage: bench/toy_quality.sh [SETS...]   (default: ring8 grid25 gray-pixels)
# environment: CLGAN_BIN (default ./clgan), BACKEND (default cpu), SEEDS
# (default "1 2 3 4 5"), KEEP=1 keeps the run folders (printed).
CLGAN_BIN=${CLGAN_BIN:-./clgan}
BACKEND=${BACKEND:-cpu}
SEEDS=${SEEDS:-"1 2 3 4 5"}
[ $# -gt 0 ] || set -- ring8 grid25 gray-pixels
tmp=$(mktemp -d "${TMPDIR:-/tmp}/clgan-toy-quality.XXXXXX") || exit 1
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$tmp"' EXIT

# json_num FILE KEY: the number after "KEY": in a flat JSON file.
json_num() {
    sed -n "s/^ *\"$2\": *\([-0-9.eE+null]*\).*/\1/p" "$1" | head -n 1
}

status=0
for set in "$@"; do
    echo "== $set on $BACKEND ($("$CLGAN_BIN" --version))"
    case $set in
        gray-pixels) printf '%-6s %10s %10s %12s %12s %8s %s\n' seed mean_err cov_err energy energy_ref time_s pass ;;
        *) printf '%-6s %8s %8s %10s %8s %s\n' seed modes hq rev_kl time_s pass ;;
    esac
    sum1=0 sum2=0 n=0 allmodes=1
    for seed in $SEEDS; do
        out="$tmp/$set-$seed"
        t0=$(date +%s.%N)
        if ! "$CLGAN_BIN" train --data "$set" --seed "$seed" --backend "$BACKEND" --out "$out" \
            >"$tmp/log" 2>&1; then
            echo "$seed: clgan train failed:"
            tail -n 3 "$tmp/log"
            status=1
            continue
        fi
        t1=$(date +%s.%N)
        secs=$(echo "$t1 - $t0" | bc)
        m="$out/metrics.json"
        case $set in
            gray-pixels)
                me=$(json_num "$m" max_mean_err) ce=$(json_num "$m" max_cov_err)
                en=$(json_num "$m" energy_gen_heldout) er=$(json_num "$m" energy_train_heldout)
                ok=$(echo "$me < 0.02 && $ce < 0.006" | bc)
                printf '%-6s %10.4f %10.5f %12.4f %12.4f %8.1f %s\n' "$seed" "$me" "$ce" "$en" "$er" "$secs" \
                    "$([ "$ok" = 1 ] && echo yes || echo NO)"
                sum1=$(echo "$sum1 + $me" | bc -l) sum2=$(echo "$sum2 + $ce" | bc -l)
                [ "$ok" = 1 ] || status=1
                ;;
            *)
                mc=$(json_num "$m" modes_captured) mt=$(json_num "$m" modes_total)
                hq=$(json_num "$m" high_quality_frac) kl=$(json_num "$m" reverse_kl)
                [ "$kl" = null ] && kl=nan
                printf '%-6s %5s/%-2s %8.3f %10.3f %8.1f\n' "$seed" "$mc" "$mt" "$hq" "$kl" "$secs"
                sum1=$(echo "$sum1 + $mc" | bc -l) sum2=$(echo "$sum2 + $hq" | bc -l)
                [ "$mc" = "$mt" ] || allmodes=0
                ;;
        esac
        n=$((n + 1))
        [ "${KEEP:-0}" = 1 ] && echo "   run folder: $out"
    done
    [ "$n" -gt 0 ] || continue
    a1=$(echo "$sum1 / $n" | bc -l) a2=$(echo "$sum2 / $n" | bc -l)
    case $set in
        ring8)
            ok=$(echo "$a2 >= 0.90" | bc)
            [ "$allmodes" = 1 ] && [ "$ok" = 1 ] && v=PASS || { v=FAIL; status=1; }
            printf 'mean   %8.2f %8.3f   (bar: 8/8 every seed, hq >= 0.90): %s\n' "$a1" "$a2" "$v" ;;
        grid25)
            ok=$(echo "$a1 >= 24 && $a2 >= 0.85" | bc)
            [ "$ok" = 1 ] && v=PASS || { v=FAIL; status=1; }
            printf 'mean   %8.2f %8.3f   (bar: modes >= 24, hq >= 0.85): %s\n' "$a1" "$a2" "$v" ;;
        *)
            printf 'mean   %10.4f %10.5f   (bar: mean err < 0.02, cov err < 0.006 every seed)\n' "$a1" "$a2" ;;
    esac
done
exit $status
