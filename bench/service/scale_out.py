#!/usr/bin/env python3
"""Scale-out measurements on one PostgreSQL database (bench/scale_out_bench.sh starts everything).

  submit      API_URL N SIZE CONTENT STYLE      queues N fast jobs, prints their ids
  throughput  API_URL IDS_FILE                  waits for them; jobs/s from the jobs' own
                                                start/finish times (worker start-up excluded)
  live        API_A API_B CONTENT PAINTING SIZE STEPS FAST_STYLE FAST_JOBS
                                                a Gatys job followed by SSE on node B: latency of
                                                each progress event from the worker's report
                                                (reported_ms) to its arrival; meanwhile GET
                                                /api/jobs/{id} on node A while FAST_JOBS queued
                                                1024 px fast jobs keep the other lane busy
Prints one JSON object per command. Standard library only.
"""
import datetime
import http.client
import json
import subprocess
import sys
import time
import urllib.parse
import uuid

TOKEN = "bench-scale-out-token-0001"


def conn(base):
    u = urllib.parse.urlparse(base)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=60)


def request(base, method, path, body=None, headers=None):
    c = conn(base)
    h = {"X-Client-Token": TOKEN}
    h.update(headers or {})
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    if r.status >= 300:
        raise RuntimeError(f"{method} {path}: {r.status} {data[:200]!r}")
    return json.loads(data) if data and data[:1] in b"{[" else data


def multipart(fields, files):
    boundary = uuid.uuid4().hex
    out = []
    for k, v in fields.items():
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    for k, (name, data) in files.items():
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{name}"\r\n'
                   f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def submit(base, content, **fields):
    body, headers = multipart({k: str(v) for k, v in fields.items()}, {"content": ("photo.jpg", content)})
    return request(base, "POST", "/api/jobs", body, headers)["id"]


def wait_done(base, ids, timeout=900, poll=0.2):
    deadline = time.time() + timeout
    pending = set(ids)
    jobs = {}
    while pending and time.time() < deadline:
        for i in [i for i in ids if i in pending]:
            j = request(base, "GET", f"/api/jobs/{i}")
            if j["status"] not in ("done", "failed", "cancelled"):
                break  # the rest are behind it in the queue: ask again later
            jobs[i] = j
            pending.discard(i)
        time.sleep(poll)
    if pending:
        raise RuntimeError(f"{len(pending)} jobs not finished")
    return jobs


def ms(iso):
    return datetime.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000


def pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(q * (len(v) - 1)))] if v else None


def submit_batch(base, n, size, content_path, style):
    """Queues n fast jobs (run before the workers start, so uploads do not share their cores)."""
    content = open(content_path, "rb").read()
    print("\n".join(submit(base, content, style=style, size=size) for _ in range(int(n))))


def throughput(base, ids_path):
    ids = open(ids_path).read().split()
    jobs = wait_done(base, ids, poll=0.5)
    failed = [j for j in jobs.values() if j["status"] != "done"]
    start = min(ms(j["started_at"]) for j in jobs.values())
    end = max(ms(j["finished_at"]) for j in jobs.values())
    print(json.dumps({"jobs": len(jobs), "failed": len(failed), "span_s": (end - start) / 1000,
                      "jobs_per_s": len(jobs) / ((end - start) / 1000),
                      "mean_job_s": sum(j["seconds"] for j in jobs.values()) / len(jobs)}))


def follow(base, job_id):
    """Follows a job's event stream: how old each progress report is when it arrives."""
    c = conn(base)
    c.request("GET", f"/api/jobs/{job_id}/events", headers={"X-Client-Token": TOKEN})
    r = c.getresponse()
    event, latencies = None, []
    for raw in r:
        line = raw.decode().rstrip("\n")
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:") and event == "progress":
            p = json.loads(line[5:])
            if "reported_ms" in p:
                latencies.append(time.time() * 1000 - p["reported_ms"])
        elif line.startswith("data:") and event in ("done", "failed", "cancelled"):
            break
    print(json.dumps({"progress_events": len(latencies),
                      "progress_latency_ms": {"p50": pct(latencies, 0.5), "p99": pct(latencies, 0.99),
                                              "max": max(latencies) if latencies else None}}))


def reads(base, job_id):
    """GET /api/jobs/{id} every 10 ms on one keep-alive connection until the job has finished."""
    c = conn(base)
    times = []
    while True:
        t0 = time.perf_counter()
        c.request("GET", f"/api/jobs/{job_id}", headers={"X-Client-Token": TOKEN})
        r = c.getresponse()
        body = r.read()
        times.append((time.perf_counter() - t0) * 1000)
        if r.status != 200:
            raise RuntimeError(f"read {r.status}")
        if json.loads(body)["status"] in ("done", "failed", "cancelled"):
            break
        time.sleep(0.01)
    print(json.dumps({"api_reads": len(times),
                      "api_read_ms": {"p50": pct(times, 0.5), "p99": pct(times, 0.99), "max": max(times)}}))


def live(api_a, api_b, content_path, painting_path, size, steps, fast_style, fast_jobs):
    """A Gatys job followed on node B and read on node A (each measured in a process of its own,
    away from this one's load), while this process keeps the fast lane busy."""
    content = open(content_path, "rb").read()
    body, headers = multipart({"title": "bench painting"},
                              {"image": ("painting.jpg", open(painting_path, "rb").read())})
    painting = request(api_a, "POST", "/api/styles", body, headers)["id"]
    gatys = submit(api_a, content, style=painting, method="gatys", size=size, steps=steps)
    me = [sys.executable, __file__]
    follower = subprocess.Popen(me + ["follow", api_b, gatys], stdout=subprocess.PIPE, text=True)
    while request(api_a, "GET", f"/api/jobs/{gatys}")["status"] == "queued":
        time.sleep(0.05)
    # The fast lane's work is queued before the reads start (as in bench/service_bench.sh), so no
    # upload shares the measurement.
    fast_ids = [submit(api_a, content, style=fast_style, size=1024) for _ in range(int(fast_jobs))]
    reader = subprocess.Popen(me + ["reads", api_a, gatys], stdout=subprocess.PIPE, text=True)
    reader.wait()
    left = sum(request(api_a, "GET", f"/api/jobs/{i}")["status"] == "queued" for i in fast_ids)
    result = {"fast_jobs_done_meanwhile": len(fast_ids) - left, "fast_jobs_still_queued": left}
    result.update(json.loads(follower.communicate()[0]))
    result.update(json.loads(reader.communicate()[0]))
    print(json.dumps(result))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"submit": submit_batch, "throughput": throughput, "live": live, "follow": follow,
     "reads": reads}[cmd](*args)
