#!/usr/bin/env python3
"""Writes the service benchmark's inputs without downloads: synthetic VGG19 weights (blocks 1-2,
torchvision names, random values), a style image and a few photos (PNG)."""
import json, os, random, struct, sys, zlib

out = sys.argv[1]
os.makedirs(out + "/dataset", exist_ok=True)
rng = random.Random(0)

def png(path, w, h, f):
    rows = []
    for y in range(h):
        row = bytearray([0])
        for x in range(w):
            row += bytes(f(x, y))
        rows.append(bytes(row))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))
    open(path, "wb").write(data)

png(out + "/style.png", 128, 128, lambda x, y: ((x * 7) % 256, (y * 5) % 256, ((x + y) * 3) % 256))
for i in range(4):
    png(f"{out}/dataset/photo{i}.png", 96, 96,
        lambda x, y, i=i: ((x * 2 + i * 40) % 256, (y * 2) % 256, 128))
png(out + "/photo.png", 640, 480, lambda x, y: ((x // 3) % 256, (y // 2) % 256, (x + y) % 256))
png(out + "/small.png", 64, 48, lambda x, y: (x * 4, y * 5, 100))

# VGG19 blocks 1-2 in torchvision naming: features.{0,2,5,7}.weight/bias
convs = [(0, 64, 3), (2, 64, 64), (5, 128, 64), (7, 128, 128)]
header, blobs, offset = {}, [], 0
for idx, cout, cin in convs:
    std = (2.0 / (cin * 9)) ** 0.5
    for name, shape in ((f"features.{idx}.weight", [cout, cin, 3, 3]), (f"features.{idx}.bias", [cout])):
        n = 1
        for s in shape:
            n *= s
        scale = std if name.endswith("weight") else 0.01
        blob = struct.pack(f"<{n}f", *(rng.gauss(0, scale) for _ in range(n)))
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
h = json.dumps(header).encode()
h += b" " * ((8 - len(h) % 8) % 8)
with open(out + "/vgg19-synthetic.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
