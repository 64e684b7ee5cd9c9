#!/bin/sh
# fmnist_epoch.sh: one epoch of Fashion-MNIST (60,000 images, batch 64) with
# the MLP or the DCGAN, clgan against PyTorch on the same model, in one run:
# clgan's wall time for `clgan train --data fashion-mnist --model M --epochs 1`
# (data loading and the end-of-run files included) beside the epoch time
# gan_torch.py measures (`gan_torch.py M --threads 2 --batch 64 --epoch`),
# and their ratio. The runs alternate ROUNDS times (default 1); the table
# shows the median of each side.
# usage: bench/fmnist_epoch.sh [mlp|dcgan]   (run from the build folder)
# environment: CLGAN_BIN (default ./clgan), GAN_TORCH (default
#   SRCDIR/../shared/bench/gan_torch.py), PYTHON (default /usr/bin/python3),
#   BACKEND (default cpu), ROUNDS (default 1), OUT (run folders; default a
#   temporary folder, removed).
set -u
model=${1:-dcgan}
here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${SRCDIR:-$(dirname "$here")}
CLGAN_BIN=${CLGAN_BIN:-./clgan}
GAN_TORCH=${GAN_TORCH:-$SRCDIR/../shared/bench/gan_torch.py}
PYTHON=${PYTHON:-/usr/bin/python3}
BACKEND=${BACKEND:-cpu}
ROUNDS=${ROUNDS:-1}
OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
export OMP_WAIT_POLICY
case $model in mlp|dcgan) ;; *) echo "usage: fmnist_epoch.sh [mlp|dcgan]" >&2; exit 2 ;; esac
[ -x "$CLGAN_BIN" ] || { echo "fmnist_epoch: no clgan at $CLGAN_BIN (set CLGAN_BIN)" >&2; exit 3; }
[ -f "$GAN_TORCH" ] || { echo "fmnist_epoch: no $GAN_TORCH (set GAN_TORCH)" >&2; exit 3; }
if [ -n "${OUT:-}" ]; then out=$OUT; mkdir -p "$out"; else
    out=$(mktemp -d "${TMPDIR:-/tmp}/clgan-fmnist.XXXXXX") || exit 3
    trap 'rm -rf "$out"' EXIT
fi

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "== Fashion-MNIST, one epoch, $model, batch 64; machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$out/ours" >"$out/theirs"
r=1
while [ "$r" -le "$ROUNDS" ]; do
    t0=$(date +%s.%N)
    "$CLGAN_BIN" train --data fashion-mnist --model "$model" --epochs 1 --backend "$BACKEND" \
        --out "$out/run$r" >"$out/c$r.log" 2>&1 || { tail -n 5 "$out/c$r.log"; exit 3; }
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc >>"$out/ours"
    echo "-- clgan round $r: $(echo "$t1 - $t0" | bc) s; $(grep '^fashion-mnist:' "$out/c$r.log")"
    "$PYTHON" "$GAN_TORCH" "$model" --threads 2 --batch 64 --epoch >"$out/t$r.log" 2>&1 ||
        { tail -n 5 "$out/t$r.log"; exit 3; }
    sed -n 's/.*"epoch_meas_s": \([0-9.]*\).*/\1/p' "$out/t$r.log" >>"$out/theirs"
    echo "-- PyTorch round $r: $(tail -n 1 "$out/theirs") s ($(grep -o 'torch [0-9a-z.+]*' "$out/t$r.log" | head -n 1))"
    r=$((r + 1))
done
ours=$(median <"$out/ours") theirs=$(median <"$out/theirs")
printf '%-28s %10s %8s\n' implementation "epoch s" ratio
printf '%-28s %10.1f %8s\n' "PyTorch (2 threads)" "$theirs" 1.00
printf '%-28s %10.1f %7.2fx\n' "clgan $BACKEND" "$ours" "$(echo "$theirs / $ours" | bc -l)"
echo "(ratio > 1: clgan faster)"
