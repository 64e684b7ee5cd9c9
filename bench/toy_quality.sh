#!/bin/sh
# toy_quality.sh: the quality bars of issue 3 on the default recipes:
# `clgan train --data SET --seed S --out DIR` with every other setting at its
# default, 5 seeds per data set, one table row per seed, then the averages
# and a verdict per data set:
#   ring8:       8/8 modes in every seed, >= 90% high-quality samples on average
#   grid25:      >= 24/25 modes and >= 85% high-quality samples on average
#   gray-pixels: generated per-channel mean within 0.02 of the data's and
#                covariance entries within 0.006 of the data's (its variances
#                are ~0.008), every seed
#   every run:   under 120 s wall (the issue's 2-minute limit)
# usage: bench/toy_quality.sh [SETS...]   (default: ring8 grid25 gray-pixels)
# environment: CLGAN_BIN (default ./clgan), BACKEND (default cpu), SEEDS
# (default "1 2 3 4 5"), STEPS (default: the recipe's; set it only for slow
# backends, and say so), KEEP=1 keeps the run folders (printed).
# Exit status: 0 every bar met, 1 some bar missed or a run failed.
CLGAN_BIN=${CLGAN_BIN:-./clgan}
BACKEND=${BACKEND:-cpu}
SEEDS=${SEEDS:-"1 2 3 4 5"}
MAX_S=120
[ $# -gt 0 ] || set -- ring8 grid25 gray-pixels
tmp=$(mktemp -d "${TMPDIR:-/tmp}/clgan-toy-quality.XXXXXX") || exit 1
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$tmp"' EXIT

# json_num FILE KEY: the number after "KEY": in a flat JSON file.
json_num() {
    sed -n "s/^ *\"$2\": *\([-0-9.eE+naNul]*\).*/\1/p" "$1" | head -n 1
}

echo "clgan toy quality: $("$CLGAN_BIN" --version), backend $BACKEND, OMP_NUM_THREADS=${OMP_NUM_THREADS:-default}, $(nproc) CPUs${STEPS:+, --steps $STEPS (not the default)}"
printf '%-12s %4s %7s %7s %7s %9s %9s %7s %s\n' set seed modes hq% rev_kl mean_err cov_err wall_s ok
status=0
summary=""
for set in "$@"; do
    sum_m=0 sum_h=0 sum_me=0 sum_ce=0 n=0 allmodes=1 allok=1 slow=0 total=0
    for seed in $SEEDS; do
        out="$tmp/$set-$seed"
        t0=$(date +%s.%N)
        # shellcheck disable=SC2086
        if ! "$CLGAN_BIN" train --data "$set" --seed "$seed" --backend "$BACKEND" --out "$out" \
            ${STEPS:+--steps "$STEPS"} >"$tmp/log" 2>&1; then
            echo "$set seed $seed: clgan train failed:"
            tail -n 3 "$tmp/log"
            status=1 allok=0
            continue
        fi
        t1=$(date +%s.%N)
        secs=$(echo "$t1 - $t0" | bc)
        [ "$(echo "$secs < $MAX_S" | bc)" = 1 ] || slow=$((slow + 1))
        m="$out/metrics.json"
        case $set in
            gray-pixels)
                me=$(json_num "$m" max_mean_err) ce=$(json_num "$m" max_cov_err)
                ok=$(echo "$me < 0.02 && $ce < 0.006" | bc)
                printf '%-12s %4s %7s %7s %7s %9.4f %9.5f %7.1f %s\n' "$set" "$seed" - - - "$me" "$ce" \
                    "$secs" "$([ "$ok" = 1 ] && echo yes || echo NO)"
                sum_me=$(echo "$sum_me + $me" | bc -l) sum_ce=$(echo "$sum_ce + $ce" | bc -l)
                [ "$ok" = 1 ] || allok=0
                ;;
            *)
                mc=$(json_num "$m" modes_captured) mt=$(json_num "$m" modes_total)
                hq=$(json_num "$m" high_quality_frac) kl=$(json_num "$m" reverse_kl)
                case $kl in null | nan | '') kl=nan ;; esac
                printf '%-12s %4s %4s/%-2s %7.1f %7.3f %9s %9s %7.1f\n' "$set" "$seed" "$mc" "$mt" \
                    "$(echo "100 * $hq" | bc -l)" "$kl" - - "$secs"
                sum_m=$(echo "$sum_m + $mc" | bc -l) sum_h=$(echo "$sum_h + $hq" | bc -l)
                [ "$mc" = "$mt" ] || allmodes=0
                ;;
        esac
        total=$(echo "$total + $secs" | bc -l)
        n=$((n + 1))
        [ "${KEEP:-0}" = 1 ] && echo "   run folder: $out"
    done
    [ "$n" -gt 0 ] || { summary="$summary
$set: no run finished: FAIL"; status=1; continue; }
    am=$(echo "$sum_m / $n" | bc -l) ah=$(echo "$sum_h / $n" | bc -l)
    ame=$(echo "$sum_me / $n" | bc -l) ace=$(echo "$sum_ce / $n" | bc -l)
    at=$(echo "$total / $n" | bc -l)
    case $set in
        ring8)
            ok=$(echo "$ah >= 0.90" | bc)
            [ "$allmodes" = 1 ] && [ "$ok" = 1 ] && [ "$allok" = 1 ] && v=PASS || v=FAIL
            printf '%-12s %4s %7.2f %7.1f %7s %9s %9s %7.1f %s\n' "$set" mean "$am" "$(echo "100 * $ah" | bc -l)" \
                - - - "$at" "bar: 8/8 every seed, hq >= 90%: $v" ;;
        grid25)
            ok=$(echo "$am >= 24 && $ah >= 0.85" | bc)
            [ "$ok" = 1 ] && [ "$allok" = 1 ] && v=PASS || v=FAIL
            printf '%-12s %4s %7.2f %7.1f %7s %9s %9s %7.1f %s\n' "$set" mean "$am" "$(echo "100 * $ah" | bc -l)" \
                - - - "$at" "bar: modes >= 24, hq >= 85%: $v" ;;
        *)
            [ "$allok" = 1 ] && v=PASS || v=FAIL
            printf '%-12s %4s %7s %7s %7s %9.4f %9.5f %7.1f %s\n' "$set" mean - - - "$ame" "$ace" "$at" \
                "bar: mean err < 0.02, cov err < 0.006 every seed: $v" ;;
    esac
    t=PASS
    [ "$slow" = 0 ] || { t="FAIL ($slow runs over ${MAX_S} s)"; }
    [ "$v" = PASS ] && [ "$t" = PASS ] || status=1
    summary="$summary
$set: quality $v, time $t"
done
echo "== verdict (backend $BACKEND)$summary"
exit $status
