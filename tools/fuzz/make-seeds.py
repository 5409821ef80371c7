#!/usr/bin/env python3
"""Seeds for the ETL fuzz targets from the shared corpus (python3, standard library only).

corpus/etl_file:   corpus files of at most 64 KiB whole, and the first buffers (at most
                   three, at most 64 KiB) of the larger ones.
corpus/etl_buffer: the filled bytes after the 72-byte header of the first three
                   uncompressed buffers of every corpus file.

Usage: python3 make-seeds.py [CORPUS_DIR]   (default: $WSKTRACE_CORPUS/etl/public or
../../../shared/corpus/etl/public relative to this file)
"""
import glob
import os
import struct
import sys

here = os.path.dirname(os.path.abspath(__file__))
if len(sys.argv) > 1:
    src = sys.argv[1]
elif os.environ.get("WSKTRACE_CORPUS"):
    src = os.path.join(os.environ["WSKTRACE_CORPUS"], "etl", "public")
else:
    src = os.path.join(here, "..", "..", "..", "shared", "corpus", "etl", "public")
files = sorted(glob.glob(os.path.join(src, "*", "*.etl")))
if not files:
    sys.exit(f"no .etl files under {src}")
out_file = os.path.join(here, "corpus", "etl_file")
out_buf = os.path.join(here, "corpus", "etl_buffer")
os.makedirs(out_file, exist_ok=True)
os.makedirs(out_buf, exist_ok=True)
for f in files:
    d = open(f, "rb").read()
    name = os.path.basename(f)
    if len(d) <= 65536:
        open(os.path.join(out_file, name), "wb").write(d)
    parts, pos = [], 0
    while pos + 72 <= len(d) and len(parts) < 3:
        size = struct.unpack_from("<I", d, pos)[0]
        filled = struct.unpack_from("<I", d, pos + 0x30)[0]
        flags = struct.unpack_from("<H", d, pos + 0x34)[0]
        if size < 72:
            break
        if not flags & 0x40 and 72 <= filled <= size:
            open(os.path.join(out_buf, f"{name}.{len(parts)}"), "wb").write(d[pos + 72 : pos + filled])
        parts.append(d[pos : pos + size])
        pos += size
    head = b"".join(parts)
    if len(d) > 65536 and len(head) <= 65536:
        open(os.path.join(out_file, name + ".head"), "wb").write(head)
print(f"{len(os.listdir(out_file))} file seeds, {len(os.listdir(out_buf))} buffer seeds")
