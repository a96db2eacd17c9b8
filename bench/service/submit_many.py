#!/usr/bin/env python3
"""POSTs N fast jobs at once (one thread each) and reports accepted (202) / rejected (429)."""
import http.client, json, sys, threading, uuid

port, n, photo = int(sys.argv[1]), int(sys.argv[2]), open(sys.argv[3], "rb").read()
results, lock, start = {}, threading.Lock(), threading.Barrier(n)

def body():
    b = uuid.uuid4().hex
    parts = [f'--{b}\r\nContent-Disposition: form-data; name="style"\r\n\r\nbench\r\n'.encode(),
             f'--{b}\r\nContent-Disposition: form-data; name="size"\r\n\r\n128\r\n'.encode(),
             f'--{b}\r\nContent-Disposition: form-data; name="content"; filename="p.png"\r\n'
             f'Content-Type: image/png\r\n\r\n'.encode() + photo + b"\r\n",
             f"--{b}--\r\n".encode()]
    return b, b"".join(parts)

def worker(i):
    b, data = body()
    start.wait()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        c.request("POST", "/api/jobs", data, {"Content-Type": f"multipart/form-data; boundary={b}",
                                              "X-Client-Token": f"bench-client-{i:08d}"})
        status = c.getresponse().status
    except Exception as e:  # connection refused/reset counts separately
        status = type(e).__name__
    with lock:
        results[status] = results.get(status, 0) + 1

threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps({str(k): v for k, v in sorted(results.items(), key=str)}))
