# ckpt_tool.py: reads clgan checkpoints as a safetensors user would, by hand
# (struct + json for the layout, numpy for the tensors), for
# tests/test_resume.sh. "show FILE": the tensors; "same A B": exit 0 when
# every tensor and every counter of the two files are bit-identical.
import json
import struct
import sys
import zlib

import numpy as np


def load(path):
    with open(path, "rb") as f:
        raw = f.read()
    (hlen,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + hlen])
    meta = header.pop("__metadata__")
    data = raw[8 + hlen:]
    assert "%08x" % zlib.crc32(data) == meta["crc32"], "data CRC"
    tensors = {}
    for name, e in header.items():
        assert e["dtype"] == "F32"
        b, end = e["data_offsets"]
        a = np.frombuffer(data[b:end], dtype="<f4").reshape(e["shape"])
        tensors[name] = a
    return meta, tensors


def main():
    if sys.argv[1] == "show":
        meta, t = load(sys.argv[2])
        for name in sorted(t):
            print(name, list(t[name].shape), float(np.abs(t[name]).sum()))
        print("step", meta["global_step"], "epoch", meta["epoch"], "batch", meta["data_cursor_batch"])
        return 0
    ma, ta = load(sys.argv[2])
    mb, tb = load(sys.argv[3])
    skip = {"config", "backend", "header_crc32"}
    bad = [k for k in set(ma) | set(mb) if k not in skip and ma.get(k) != mb.get(k)]
    bad += [n for n in set(ta) | set(tb) if n not in ta or n not in tb or ta[n].tobytes() != tb[n].tobytes()]
    if bad:
        print("differ:", sorted(bad))
        return 1
    print("same: %d tensors, step %s" % (len(ta), ma["global_step"]))
    return 0


sys.exit(main())
