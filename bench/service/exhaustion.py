#!/usr/bin/env python3
"""Memory-exhaustion benchmark for `pastiche serve` (bench/exhaustion_bench.sh starts the server).

The two floods of issue 26, each from one address and from 8 (127.0.3.x), while a well-behaved
client on 127.0.0.1 times GET /healthz on fresh connections:
  form:      CONNS connections each POST a 19 MB application/x-www-form-urlencoded body
             ("a=1&" repeated) to /no/such/route;
  multipart: CONNS connections each POST a 20 MB multipart body to /api/styles quickly but
             hold back its last 10 bytes for HOLD seconds, then close.
Prints the server's RSS when idle, its peak during the flood, and 30 s after the connections
closed, the answers the flood got, and /healthz p50/p99. Loopback only; every loop is bounded.

  exhaustion.py PORT SERVER_PID [conns=128] [hold=10]
"""
import asyncio, multiprocessing, socket, sys, time

PORT = int(sys.argv[1])
PID = int(sys.argv[2])
CONNS = int(sys.argv[3]) if len(sys.argv) > 3 else 128
HOLD = float(sys.argv[4]) if len(sys.argv) > 4 else 10.0

FORM = b"a=1&" * 4_750_000  # 19 MB
BOUNDARY = b"exhaustionboundary"
MULTIPART = (b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="image"; '
             b'filename="x.png"\r\nContent-Type: image/png\r\n\r\n' + b"x" * 20_000_000 +
             b"\r\n--" + BOUNDARY + b"--\r\n")


def rss_mb():
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return -1


async def flood_one(kind, source, answers):
    if kind == "form":
        path, ctype, body = "/no/such/route", "application/x-www-form-urlencoded", FORM
    else:
        path, ctype, body = "/api/styles", "multipart/form-data; boundary=" + BOUNDARY.decode(), MULTIPART
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", PORT, local_addr=(source, 0))
    except OSError:
        answers["no connection"] = answers.get("no connection", 0) + 1
        return
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    status = "sent, no answer"
    try:
        writer.write(head)
        writer.write(body if kind == "form" else body[:-10])
        try:
            await asyncio.wait_for(writer.drain(), timeout=30)
        except (asyncio.TimeoutError, OSError):
            pass
        try:
            line = await asyncio.wait_for(reader.readline(), timeout=HOLD)
            status = line.decode(errors="replace").split(" ")[1] if line else "closed"
        except asyncio.TimeoutError:
            status = "held open"
        except OSError:
            status = "reset"
    except OSError:
        status = "reset"
    finally:
        writer.close()
    answers[status] = answers.get(status, 0) + 1


def timed_health(stop, results):
    """GET /healthz on fresh connections until `stop`; puts (samples in ms, failures)."""
    samples, failures = [], []
    while not stop.is_set():
        t = time.perf_counter()
        try:
            with socket.create_connection(("127.0.0.1", PORT), timeout=10) as c:
                c.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                data = b""
                while chunk := c.recv(4096):
                    data += chunk
            if data.startswith(b"HTTP/1.1 200"):
                samples.append((time.perf_counter() - t) * 1000)
            else:
                failures.append(data[:12])
        except OSError:
            failures.append(b"error")
        stop.wait(0.05)
    results.put((samples, failures))


async def peak_watch(stop, peak):
    while not stop.is_set():
        peak[0] = max(peak[0], rss_mb())
        await asyncio.sleep(0.1)


async def run(kind, addresses):
    idle = rss_mb()
    stop, samples, failures, peak, answers = asyncio.Event(), [], [], [idle], {}
    # Its own process: the flood's Python (GIL) does not delay the timings.
    health_stop = multiprocessing.Event()
    results = multiprocessing.Queue()
    health = multiprocessing.Process(target=timed_health, args=(health_stop, results))
    health.start()
    watchers = [asyncio.create_task(peak_watch(stop, peak))]
    t = time.perf_counter()
    await asyncio.gather(*(flood_one(kind, f"127.0.3.{1 + i % addresses}", answers)
                           for i in range(CONNS)))
    flood_s = time.perf_counter() - t
    stop.set()
    health_stop.set()
    samples, failures = results.get()
    health.join()
    await asyncio.gather(*watchers)
    closed = rss_mb()
    await asyncio.sleep(30)
    after = rss_mb()
    samples.sort()
    p = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))] if samples else float("nan")
    print(f"{kind:9s} from {addresses} address(es), {CONNS} connections ({flood_s:.1f} s): "
          f"RSS idle {idle:.0f} MB, peak {peak[0]:.0f} MB (+{peak[0] - idle:.0f}), "
          f"at close {closed:.0f} MB, 30 s later {after:.0f} MB (+{after - idle:.0f}); "
          f"answers {answers}; /healthz p50 {p(0.5):.1f} ms p99 {p(0.99):.1f} ms "
          f"({len(samples)} ok, {len(failures)} failed)")


async def main():
    for kind in ("form", "multipart"):
        for addresses in (1, 8):
            await run(kind, addresses)


asyncio.run(main())
