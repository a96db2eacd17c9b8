#!/usr/bin/env python3
"""Disk-quota benchmark for `pastiche serve` (bench/quota_bench.sh starts the servers).

Issue 26's reproductions 3 and 4 against a server with --max-disk-mb 10:
  uploads: 30 clients each upload a 1024x1024 noise PNG as a painting (POST /api/styles); prints
           the answers, the image store's bytes before and after, and what a fresh client's
           submit (512 px) gets afterwards;
  submits: 40 clients submit a 512x512 noise photo at once (fast method, size 512); waits for
           the accepted jobs to finish and prints the stored bytes against the quota.
Stored bytes come from GET /healthz with the admin key (disk.used_bytes). Loopback only.

  quota.py uploads|submits PORT ADMIN_KEY STYLE
"""
import http.client, json, os, struct, sys, threading, time, uuid, zlib

MODE, PORT, ADMIN, STYLE = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]


def noise_png(side):
    raw = b"".join(b"\x00" + os.urandom(side * 3) for _ in range(side))
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def request(method, path, token, fields=None, file=None):
    headers = {"X-Client-Token": token}
    body = None
    if fields is not None:
        boundary = uuid.uuid4().hex
        parts = []
        for k, v in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
        if file:
            name, data = file
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                         f'filename="x.png"\r\nContent-Type: image/png\r\n\r\n'.encode() + data + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        body = b"".join(parts)
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, data


def stored():
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    conn.request("GET", "/healthz", headers={"X-Admin-Key": ADMIN})
    body = json.loads(conn.getresponse().read())
    conn.close()
    return body["disk"]["used_bytes"], body["disk"]["quota_bytes"]


def run_all(n, fn):
    results = [None] * n
    barrier = threading.Barrier(n)
    def one(i):
        barrier.wait()
        results[i] = fn(i)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads: t.start()
    for t in threads: t.join()
    return results


def mb(b):
    return f"{b / 1e6:.1f} MB"


before, quota = stored()
if MODE == "uploads":
    png = noise_png(1024)
    answers = run_all(30, lambda i: request("POST", "/api/styles", f"uploader-client-{i:04d}",
                                            {"title": "noise"}, ("image", png))[0])
    after, _ = stored()
    print(f"30 painting uploads (1024x1024 noise, {mb(len(png))} each) vs quota {mb(quota)}:")
    print(f"  answers: {dict((s, answers.count(s)) for s in sorted(set(answers)))}")
    print(f"  stored: {mb(before)} -> {mb(after)} ({after / quota:.2f}x the quota)")
    status, body = request("POST", "/api/jobs", "late-client-00000001", {"style": STYLE, "size": "512"},
                           ("content", noise_png(512)))
    print(f"  a fresh client's submit afterwards (512x512 noise photo, size 512): {status}")
else:
    photo = noise_png(512)
    def submit(i):
        status, body = request("POST", "/api/jobs", f"submit-client-{i:04d}", {"style": STYLE, "size": "512"},
                               ("content", photo))
        return status, (json.loads(body).get("id") if status == 202 else None)
    answers = run_all(40, submit)
    statuses = [s for s, _ in answers]
    for i, (s, job) in enumerate(answers):
        while job:
            _, body = request("GET", f"/api/jobs/{job}", f"submit-client-{i:04d}")
            if json.loads(body)["status"] in ("done", "failed", "cancelled", "expired"):
                break
            time.sleep(0.2)  # polling interval
    after, _ = stored()
    bound = len(photo) + 513 * 513 * 3 + 256 * 1024
    print(f"40 concurrent submits (512x512 noise photo {mb(len(photo))}, size 512; one job's bound "
          f"{mb(bound)}) vs quota {mb(quota)}:")
    print(f"  answers: {dict((s, statuses.count(s)) for s in sorted(set(statuses)))}")
    print(f"  stored after the accepted jobs finished: {mb(before)} -> {mb(after)} "
          f"({after / quota:.2f}x the quota; quota + one job = {mb(quota + bound)})")
