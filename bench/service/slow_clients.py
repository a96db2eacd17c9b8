#!/usr/bin/env python3
"""Hostile-load benchmark for `pastiche serve` (bench/slow_clients_bench.sh starts the server).

Holds N slow-header connections (a partial request head, one more byte every 2 s, reconnecting
when the server cuts them at its head deadline) from 127.0.1.x addresses and M open event
streams from 25 or more clients (8 each) on 127.0.2.x, while a well-behaved client on 127.0.0.1 times
GET /healthz and GET /api/jobs/{id} on fresh connections. Prints latency percentiles, failures
and the server's connection counters. Only loopback addresses are used; every loop is bounded.

  slow_clients.py PORT PHOTO ADMIN_KEY [slow=1000] [streams=200] [seconds=20]
"""
import asyncio, json, multiprocessing, queue, resource, socket, statistics, sys, time, urllib.request

PORT = int(sys.argv[1])
PHOTO = open(sys.argv[2], "rb").read()
ADMIN = sys.argv[3]
SLOW = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
STREAMS = int(sys.argv[5]) if len(sys.argv) > 5 else 200
SECONDS = float(sys.argv[6]) if len(sys.argv) > 6 else 20
# Enough clients and addresses that the per-client (8) and per-address (32) stream caps and the
# per-address connection cap (64) admit them all.
CLIENTS = max(25, -(-STREAMS // 8))
STREAM_ADDRESSES = max(7, -(-STREAMS // 30))
SLOW_ADDRESSES = max(25, -(-SLOW // 60))

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))


def token(i):
    return f"bench-stream-client-{i:04d}"


def submit(i):
    """A long Gatys job for client i (the first runs, the rest wait): its stream stays open."""
    boundary = "benchboundary"
    fields = {"style": "bench-painting", "method": "gatys", "size": "512", "steps": "2000",
              "scales": "1"}
    body = b""
    for k, v in fields.items():
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
    body += (f'--{boundary}\r\nContent-Disposition: form-data; name="content"; '
             f'filename="p.png"\r\nContent-Type: image/png\r\n\r\n').encode() + PHOTO + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    req = urllib.request.Request(f"http://127.0.0.1:{PORT}/api/jobs", data=body, method="POST",
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                                          "X-Client-Token": token(i)})
    return json.load(urllib.request.urlopen(req, timeout=30))["id"]


async def slow_connection(i, stop, counters):
    source = f"127.0.1.{1 + i % SLOW_ADDRESSES}"
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", PORT, local_addr=(source, 0))
        except OSError:
            counters["refused"] += 1
            await asyncio.sleep(0.5)
            continue
        counters["open"] += 1
        try:
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            await writer.drain()
            while not stop.is_set():
                writer.write(b"a")
                await writer.drain()
                try:
                    data = await asyncio.wait_for(reader.read(1), timeout=2.0)
                    if not data:
                        counters["cut"] += 1
                        break
                except asyncio.TimeoutError:
                    pass
        except (ConnectionError, OSError):
            counters["cut"] += 1
        finally:
            counters["open"] -= 1
            writer.close()


async def stream(client, job, k, stop, counters):
    source = f"127.0.2.{1 + (client * 8 + k) % STREAM_ADDRESSES}"
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT, local_addr=(source, 0))
    writer.write(f"GET /api/jobs/{job}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 f"X-Client-Token: {token(client)}\r\n\r\n".encode())
    await writer.drain()
    head = await asyncio.wait_for(reader.read(64), timeout=10)
    if b" 200 " not in head:
        counters["stream_refused"] += 1
        writer.close()
        return
    counters["streams"] += 1
    last = head
    while not stop.is_set():
        try:
            chunk = await asyncio.wait_for(reader.read(4096), timeout=1.0)
            if not chunk:
                counters["stream_ended"] += 1
                # The job finished: its final event ends the stream, as it should.
                events = [l for l in last.split(b"\n") if l.startswith(b"event: ")]
                final = events[-1][7:].decode() if events else "?"
                counters[f"ended_after_{final}"] = counters.get(f"ended_after_{final}", 0) + 1
                break
            last = chunk
        except asyncio.TimeoutError:
            pass
    writer.close()


async def timed_get(path, headers=""):
    t0 = time.perf_counter()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{headers}\r\n".encode())
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), timeout=10)
        writer.close()
        ok = data.startswith(b"HTTP/1.1 200")
    except (OSError, asyncio.TimeoutError):
        ok = False
    return (time.perf_counter() - t0) * 1000, ok


def report(name, samples):
    ms = sorted(s for s, _ in samples)
    failed = sum(1 for _, ok in samples if not ok)
    q = statistics.quantiles(ms, n=100)
    print(f"{name:24s} n={len(ms):4d}  p50 {q[49]:6.2f} ms  p95 {q[94]:6.2f} ms  "
          f"p99 {q[98]:6.2f} ms  max {ms[-1]:7.2f} ms  failed {failed}")


def timed_get_blocking(path, headers=""):
    t0 = time.perf_counter()
    try:
        with socket.create_connection(("127.0.0.1", PORT), timeout=10) as c:
            c.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{headers}\r\n"
                      .encode())
            data = b""
            while chunk := c.recv(65536):
                data += chunk
        ok = data.startswith(b"HTTP/1.1 200")
    except OSError:
        ok = False
    return (time.perf_counter() - t0) * 1000, ok


def measure_process(job, results):
    samples = {"healthz": [], "job": []}
    end = time.monotonic() + SECONDS
    while time.monotonic() < end:
        samples["healthz"].append(timed_get_blocking("/healthz"))
        samples["job"].append(timed_get_blocking(f"/api/jobs/{job}", f"X-Client-Token: {token(0)}\r\n"))
        time.sleep(0.02)
    results.put(samples)


async def measure(job, label):
    """The timings come from a process of their own: the attack's event loop (thousands of
    connections in one Python process) would otherwise delay them itself."""
    results = multiprocessing.Queue()
    proc = multiprocessing.Process(target=measure_process, args=(job, results))
    proc.start()
    samples = None
    while samples is None:
        try:
            samples = results.get_nowait()
        except queue.Empty:
            await asyncio.sleep(0.2)
    proc.join()
    print(f"--- {label}")
    report("GET /healthz", samples["healthz"])
    report("GET /api/jobs/{id}", samples["job"])


def metrics():
    req = urllib.request.Request(f"http://127.0.0.1:{PORT}/metrics", headers={"X-Admin-Key": ADMIN})
    text = urllib.request.urlopen(req, timeout=10).read().decode()
    keep = ("pastiche_http_connections ", "pastiche_http_event_streams ",
            "pastiche_http_cut_slow_total ", "pastiche_http_refused_busy_total ",
            "pastiche_process_peak_rss_bytes ", "pastiche_jobs_running ")
    return {l.split()[0]: l.split()[1] for l in text.splitlines() if l.startswith(keep)}


async def main():
    jobs = [submit(i) for i in range(CLIENTS)]
    await measure(jobs[0], "quiet (one Gatys job running)")
    stop = asyncio.Event()
    counters = {"open": 0, "cut": 0, "refused": 0, "streams": 0, "stream_refused": 0,
                "stream_ended": 0}
    tasks = [asyncio.create_task(slow_connection(i, stop, counters)) for i in range(SLOW)]
    per_client = max(1, -(-STREAMS // CLIENTS))
    tasks += [asyncio.create_task(stream(c, jobs[c], k, stop, counters))
              for c in range(CLIENTS) for k in range(per_client)]
    for _ in range(100):  # wait (bounded) until the attack is in place
        if counters["open"] >= SLOW * 0.95 and counters["streams"] >= per_client * CLIENTS * 0.95:
            break
        await asyncio.sleep(0.1)
    print(f"attack in place: {counters['open']} slow connections, {counters['streams']} streams")
    await measure(jobs[0], f"under attack ({SLOW} slow-header connections, "
                           f"{per_client * CLIENTS} event streams)")
    print("client side:", counters)
    print("server side:", metrics())
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)


asyncio.run(main())
