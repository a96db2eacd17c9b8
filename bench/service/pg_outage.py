#!/usr/bin/env python3
"""Load for a database outage (bench/pg_outage_bench.sh): CLIENTS threads, each with its own token,
submit a fast job, poll it until it ends, read the history and the styles, and again, for SECONDS,
against the API nodes in turn. Then every accepted job is waited for (up to WAIT seconds).

Prints one JSON object: responses by status, 5xx other than 503-with-Retry-After ("bad_5xx"),
503s without Retry-After, accepted jobs, jobs lost (accepted, then gone or never finished), jobs
run twice (attempts > 1), and jobs the history holds beyond those acknowledged (a submit whose
answer was lost).

  pg_outage.py SECONDS CLIENTS WAIT STYLE URL [URL...]
"""
import http.client, json, struct, sys, threading, time, urllib.parse, uuid, zlib

seconds, clients, wait_s, style = float(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
urls = [urllib.parse.urlparse(u) for u in sys.argv[5:]]


def png(w=96, h=64):
    """A small RGB gradient, PNG-encoded with the standard library."""
    rows = b"".join(b"\0" + b"".join(bytes((x * 255 // w, y * 255 // h, 128)) for x in range(w))
                    for y in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


PHOTO = png()
lock = threading.Lock()
codes, bad, no_retry_after = {}, [], 0
accepted = {}  # id -> token
stop_at = time.monotonic() + seconds


def request(node, method, path, token, body=None, headers=None):
    """(status, body); status is the exception's name when the connection failed."""
    global no_retry_after
    h = {"X-Client-Token": token}
    h.update(headers or {})
    try:
        c = http.client.HTTPConnection(node.hostname, node.port, timeout=30)
        c.request(method, path, body, h)
        r = c.getresponse()
        data, status, retry = r.read(), r.status, r.getheader("Retry-After")
        c.close()
    except Exception as e:  # refused/reset: counted by name
        status, data, retry = type(e).__name__, b"", None
    with lock:
        codes[str(status)] = codes.get(str(status), 0) + 1
        if isinstance(status, int) and status >= 500:
            if status != 503:
                bad.append(f"{status} {method} {path}: {data[:120]!r}")
            elif not retry:
                no_retry_after += 1
    return status, data


def submit(node, token):
    b = uuid.uuid4().hex
    body = b"".join([
        f'--{b}\r\nContent-Disposition: form-data; name="style"\r\n\r\n{style}\r\n'.encode(),
        f'--{b}\r\nContent-Disposition: form-data; name="size"\r\n\r\n96\r\n'.encode(),
        f'--{b}\r\nContent-Disposition: form-data; name="content"; filename="p.png"\r\n'
        f"Content-Type: image/png\r\n\r\n".encode() + PHOTO + b"\r\n", f"--{b}--\r\n".encode()])
    return request(node, "POST", "/api/jobs", token, body,
                   {"Content-Type": f"multipart/form-data; boundary={b}"})


def client(i):
    token = f"outage-bench-client-{i:04d}"
    n = 0
    while time.monotonic() < stop_at:
        node = urls[n % len(urls)]
        n += 1
        status, data = submit(node, token)
        if status != 202:
            time.sleep(0.2)  # the client's back-off before trying again
            continue
        job = json.loads(data)["id"]
        with lock:
            accepted[job] = token
        while time.monotonic() < stop_at:
            status, data = request(urls[n % len(urls)], "GET", f"/api/jobs/{job}", token)
            if status == 200 and json.loads(data)["status"] in ("done", "failed", "cancelled"):
                break
            time.sleep(0.1)  # polling interval of a client following its job
        request(node, "GET", "/api/history?limit=5", token)
        request(node, "GET", "/api/styles", token)


threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()

# Every accepted job must end, once.
lost, twice, failed, unfinished = [], [], [], set(accepted)
deadline = time.monotonic() + wait_s
while unfinished and time.monotonic() < deadline:
    for job in sorted(unfinished):
        status, data = request(urls[0], "GET", f"/api/jobs/{job}", accepted[job])
        if status == 404:
            lost.append(job)
            unfinished.discard(job)
        elif status == 200:
            j = json.loads(data)
            if j["status"] in ("done", "failed", "cancelled"):
                unfinished.discard(job)
                if j["status"] != "done":
                    failed.append(f"{job}: {j['status']} {j.get('error', '')}")
                if j.get("attempts", 1) > 1:
                    twice.append(f"{job}: attempts {j['attempts']}")
    if unfinished:
        time.sleep(0.5)  # polling interval
lost += sorted(unfinished)
extra = 0
for i in range(clients):
    token = f"outage-bench-client-{i:04d}"
    status, data = request(urls[0], "GET", "/api/history?limit=1", token)
    if status == 200:
        extra += json.loads(data)["total"] - sum(1 for t in accepted.values() if t == token)
print(json.dumps({"responses": dict(sorted(codes.items())), "bad_5xx": len(bad),
                  "bad_5xx_examples": bad[:5], "503_without_retry_after": no_retry_after,
                  "accepted": len(accepted), "lost": len(lost), "run_twice": len(twice),
                  "failed": failed[:5], "unacknowledged_jobs_created": extra}))
