#!/bin/sh
# test_images_cli.sh: `clgan train` on image data: a folder of generated PGM
# files, bad idx files and folders (a clear one-line error, exit 2 or 3,
# never a crash), and 50 steps of Fashion-MNIST on a subset when Debian's
# dataset-fashion-mnist package is installed (skipped with the reason else).
: "${CLGAN_BIN:?CLGAN_BIN must point at the clgan binary}"
fails=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/clgan-images-cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# expect_fail DESCRIPTION CODE TEXT ARGS...: exit CODE, stderr names TEXT.
expect_fail() {
    what=$1 code=$2 text=$3
    shift 3
    "$CLGAN_BIN" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ "$rc" -ne "$code" ] || ! grep -q "$text" "$tmp/err"; then
        echo "FAIL: $what: exit $rc (want $code), stderr:"
        cat "$tmp/err"
        fails=$((fails + 1))
    else
        echo "ok: $what: $(tail -n 1 "$tmp/err")"
    fi
}

# A folder of 8 x 8 gray images: 16 good PGMs (P5 and P2) and 2 bad files.
mkdir "$tmp/faces"
i=0
while [ $i -lt 16 ]; do
    v=$((i * 15))
    { printf 'P2 8 8 255\n'; j=0; while [ $j -lt 64 ]; do printf '%d ' $(((v + j) % 256)); j=$((j + 1)); done; } \
        >"$tmp/faces/f$i.pgm"
    i=$((i + 1))
done
printf 'not an image\n' >"$tmp/faces/readme.txt"
printf 'P5 8 8 255\nab' >"$tmp/faces/cut.pgm"
if "$CLGAN_BIN" train --data "folder:$tmp/faces" --size 8 --channels 1 --batch 8 --steps 6 \
    --sample-every 3 --backend cpu --out "$tmp/run1" >"$tmp/out" 2>"$tmp/err" &&
    [ -s "$tmp/run1/samples.png" ] && [ -s "$tmp/run1/samples_000003.png" ] &&
    [ -s "$tmp/run1/epoch_001.png" ] && [ -s "$tmp/run1/log.csv" ] &&
    [ "$(grep -c '^clgan: skipping' "$tmp/err")" -eq 2 ] && grep -q '2 unreadable files skipped' "$tmp/err"; then
    echo "ok: folder run (16 images, 2 skipped with a warning each)"
else
    echo "FAIL: folder run:"
    cat "$tmp/err"
    ls "$tmp/run1" 2>/dev/null
    fails=$((fails + 1))
fi

# The seed's faces case with the DCGAN: a folder of 12 gray 40 x 36 images
# (center-cropped and resized to 32 x 32), a small DCGAN (ngf = ndf = 8) for
# 4 steps on the CPU and on OpenCL when there is a device; then sampling and
# scoring from its checkpoint.
mkdir "$tmp/faces32"
i=0
while [ $i -lt 12 ]; do
    { printf 'P2 40 36 255\n'; j=0; while [ $j -lt 1440 ]; do printf '%d ' $(((i * 20 + j / 40 * 7) % 256)); j=$((j + 1)); done; } \
        >"$tmp/faces32/f$i.pgm"
    i=$((i + 1))
done
for be in cpu opencl; do
    if [ "$be" = opencl ] && ! "$CLGAN_BIN" devices 2>/dev/null | grep -q -- '--backend opencl:'; then
        echo "skipped: dcgan folder run on opencl (no OpenCL device)"
        continue
    fi
    if "$CLGAN_BIN" train --data "folder:$tmp/faces32" --size 32 --channels 1 --model dcgan --ngf 8 --ndf 8 \
        --batch 4 --steps 4 --backend "$be" --out "$tmp/dc-$be" >"$tmp/out" 2>"$tmp/err" &&
        [ -s "$tmp/dc-$be/samples.png" ] && grep -q '"model": "dcgan"' "$tmp/dc-$be/config.json" &&
        ck=$(ls "$tmp/dc-$be"/checkpoint_*.safetensors) &&
        "$CLGAN_BIN" sample --checkpoint "$ck" --n 9 --backend cpu --out "$tmp/dc-$be-s.png" >/dev/null 2>&1 &&
        [ -s "$tmp/dc-$be-s.png" ] &&
        "$CLGAN_BIN" score --checkpoint "$ck" --backend cpu "$tmp/faces32/f1.pgm" >"$tmp/score" 2>/dev/null &&
        grep -q "f1.pgm" "$tmp/score"; then
        echo "ok: dcgan on a 32x32 gray folder on $be, sampled and scored on cpu: $(head -n 1 "$tmp/out")"
    else
        echo "FAIL: dcgan folder run on $be:"
        cat "$tmp/err" "$tmp/out"
        fails=$((fails + 1))
    fi
done
# 64x64 RGB: a folder of 6 colour 70x64 PPMs, a tiny DCGAN (ngf = ndf = 4).
mkdir "$tmp/rgb64"
i=0
while [ $i -lt 6 ]; do
    { printf 'P3 70 64 255\n'; j=0; while [ $j -lt 4480 ]; do printf '%d %d %d ' $(((i * 40 + j) % 256)) $(((j / 70) * 4 % 256)) $((i * 30)); j=$((j + 1)); done; } \
        >"$tmp/rgb64/c$i.ppm"
    i=$((i + 1))
done
if "$CLGAN_BIN" train --data "folder:$tmp/rgb64" --size 64 --channels 3 --model dcgan --ngf 4 --ndf 4 \
    --batch 2 --steps 3 --backend cpu --out "$tmp/dc-rgb" >"$tmp/out" 2>"$tmp/err" &&
    [ -s "$tmp/dc-rgb/samples.png" ] && grep -q '"image": \[64, 64, 3\]' "$tmp/dc-rgb/config.json"; then
    echo "ok: dcgan on a 64x64 RGB folder: $(head -n 1 "$tmp/out")"
else
    echo "FAIL: dcgan on a 64x64 RGB folder:"
    cat "$tmp/err" "$tmp/out"
    fails=$((fails + 1))
fi
expect_fail "dcgan on a 20x20 folder" 2 "side 28, 32 or 64" train --data "folder:$tmp/faces32" --size 20 --model dcgan --batch 4 --steps 1 --backend cpu --out "$tmp/r"
expect_fail "unknown model" 2 "mlp or dcgan" train --data "folder:$tmp/faces32" --model resnet --out "$tmp/r"
expect_fail "dcgan on point data" 2 "image data sets" train --data ring8 --model dcgan --out "$tmp/r"

mkdir "$tmp/empty"
expect_fail "empty folder" 3 "$tmp/empty" train --data "folder:$tmp/empty" --steps 1 --backend cpu --out "$tmp/r"
expect_fail "missing folder" 3 "$tmp/nope" train --data "folder:$tmp/nope" --steps 1 --backend cpu --out "$tmp/r"
expect_fail "bad channels" 2 "channels" train --data "folder:$tmp/faces" --channels 2 --out "$tmp/r"
expect_fail "idx without path" 2 "idx:PATH" train --data idx --out "$tmp/r"
expect_fail "steps and epochs" 2 "not both" train --data fashion-mnist --steps 5 --epochs 1 --out "$tmp/r"
printf '\000\000\010\003\000\000\000\002\000\000\000\002\000\000\000\002abcdefghi' >"$tmp/x-images-idx3-ubyte"
expect_fail "idx trailing bytes" 3 "x-images-idx3-ubyte: trailing" train --data "idx:$tmp/x-images-idx3-ubyte" \
    --steps 1 --backend cpu --out "$tmp/r"
printf '\000\000\010\003\000\000\000\002' >"$tmp/y-images-idx3-ubyte"
expect_fail "idx truncated header" 3 "y-images-idx3-ubyte: truncated" train --data "idx:$tmp/y-images-idx3-ubyte" \
    --steps 1 --backend cpu --out "$tmp/r"
head -c 24 "$tmp/x-images-idx3-ubyte" | gzip -c | head -c 30 >"$tmp/z-images-idx3-ubyte.gz"
expect_fail "idx cut gzip" 3 "z-images-idx3-ubyte.gz: corrupt gzip" train --data "idx:$tmp/z-images-idx3-ubyte.gz" \
    --steps 1 --backend cpu --out "$tmp/r"
printf '\000\000\010\003\000\000\000\002\000\000\000\002\000\000\000\002abcdefgh' | head -c 24 >"$tmp/w-images-idx3-ubyte"
expect_fail "batch above a tiny idx set" 3 "larger than the data set" train \
    --data "idx:$tmp/w-images-idx3-ubyte" --steps 1 --backend cpu --out "$tmp/r"

fm=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
if [ -f "$fm" ]; then
    if "$CLGAN_BIN" train --data fashion-mnist --steps 50 --n-data 1280 --log-every 25 --backend cpu \
        --out "$tmp/fm" >"$tmp/out" 2>"$tmp/err" && grep -q 'verified: Fashion-MNIST train-images' "$tmp/err" &&
        [ -s "$tmp/fm/samples.png" ] && [ -s "$tmp/fm/curves.png" ] && [ -s "$tmp/fm/epoch_002.png" ] &&
        [ "$(wc -l <"$tmp/fm/log.csv")" -eq 3 ]; then
        echo "ok: fashion-mnist, 50 steps on 1280 images: $(head -n 1 "$tmp/out")"
    else
        echo "FAIL: fashion-mnist run:"
        cat "$tmp/err"
        ls "$tmp/fm"
        fails=$((fails + 1))
    fi
else
    echo "skipped: fashion-mnist run ($fm missing: install Debian's dataset-fashion-mnist)"
fi

[ "$fails" -eq 0 ] || { echo "$fails failures"; exit 1; }
exit 0
