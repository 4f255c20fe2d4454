"""A bounded load and fault test of `kbquery serve`, on the loopback interface only.

The service runs in its own process on 127.0.0.1 (a free port). CLIENTS threads send REQUESTS
requests in all, a fixed mix: valid cases (every suite case file, each decided under its own
readings), invalid ones (an unknown key, a key given twice, NaN, a wrong type, malformed JSON)
and oversized ones (past the service's body limit). Every valid answer must equal what
`kbquery batch` (the command line) decides for the same case, every invalid one must be a 4xx
naming the offending path, an oversized one a 413, and nothing a 5xx. Reported: p50 and p95
latency, requests per second, and the service's resident memory before and after.

    python bench/run.py --serve-only             # this row alone
    python bench/serve_load.py --requests 2000   # with other bounds
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KBQUERY = str(Path(sys.executable).with_name("kbquery"))
MAX_BODY = 200_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start(port: int) -> subprocess.Popen:
    code = f"from kbquery.service import serve; serve('127.0.0.1', {port}, {MAX_BODY})"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("the service did not start: " + proc.stderr.read().decode(errors="replace")[-2000:])
        time.sleep(0.2)


def bodies(seed: int) -> tuple[list[bytes], list[tuple[bytes, str]]]:
    """The valid bodies (the suite case files), and invalid ones with the path each must name."""
    valid = [p.read_bytes() for p in sorted((ROOT / "tests" / "cases").rglob("*.json"))]
    rng = random.Random(seed)
    invalid: list[tuple[bytes, str]] = []
    for _ in range(60):
        case = json.loads((ROOT / "examples" / "initial-diagnostic.json").read_text())
        kind = rng.randrange(5)
        if kind == 0:
            case["pain"]["radiculopaty"] = False
            invalid.append((json.dumps(case).encode(), "pain.radiculopaty"))
        elif kind == 1:
            text = json.dumps(case).replace('"scale": "NRS"', '"scale": "NRS", "scale": "VAS"')
            invalid.append((text.encode(), "pain.scale"))
        elif kind == 2:
            invalid.append((json.dumps(case).replace('"score": 8', '"score": NaN').encode(), "pain.score"))
        elif kind == 3:
            case["request"]["date"] = 20260302
            invalid.append((json.dumps(case).encode(), "request.date"))
        else:
            invalid.append((json.dumps(case)[:-7].encode(), ""))
    return valid, invalid


def expected(valid: list[bytes]) -> list[dict]:
    """What the command line decides for each valid body: `kbquery batch` over them as JSON Lines."""
    with tempfile.TemporaryDirectory() as tmp:
        source, out = Path(tmp) / "valid.jsonl", Path(tmp) / "decided.jsonl"
        source.write_text("".join(json.dumps(json.loads(b)) + "\n" for b in valid))
        subprocess.run([KBQUERY, "batch", str(source), "-o", str(out), "--workers", "2"], check=True,
                       capture_output=True)
        records = [json.loads(line) for line in out.read_text().splitlines()]
    return [{k: v for k, v in r.items() if k not in ("line", "source")} for r in records]


def post(url: str, body: bytes) -> tuple[int, bytes, float]:
    started = time.perf_counter()
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            status, data = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, data = e.code, e.read()
    except (ConnectionError, urllib.error.URLError) as e:  # the service closed early (an oversized body)
        status, data = -1, str(e).encode()
    return status, data, time.perf_counter() - started


def run(requests: int = 600, clients: int = 8, seed: int = 1) -> dict:
    valid, invalid = bodies(seed)
    truth = expected(valid)
    oversized = b'{"case_id": "' + b"x" * (MAX_BODY + 1000) + b'"}'
    rng = random.Random(seed)
    plan = []  # (kind, body, what to expect)
    for i in range(requests):
        r = rng.random()
        if r < 0.7:
            n = i % len(valid)
            plan.append(("valid", valid[n], truth[n]))
        elif r < 0.92:
            body, path = invalid[rng.randrange(len(invalid))]
            plan.append(("invalid", body, path))
        else:
            plan.append(("oversized", oversized, None))
    port = free_port()
    proc = start(port)
    url = f"http://127.0.0.1:{port}/v1/decide"
    try:
        for body in valid[:20]:  # warm: the first requests of each policy
            post(url, body)
        rss_before = rss_mb(proc.pid)
        results: list = [None] * len(plan)
        cursor = iter(range(len(plan)))
        lock = threading.Lock()

        def client():
            while True:
                with lock:
                    i = next(cursor, None)
                if i is None:
                    return
                results[i] = post(url, plan[i][1])

        halfway: list[float] = []

        def sample():  # the service's memory when half the requests are answered
            while sum(r is not None for r in results) < len(plan) // 2:
                time.sleep(0.05)
            halfway.append(rss_mb(proc.pid))

        threads = [threading.Thread(target=client) for _ in range(clients)] + [threading.Thread(target=sample)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - started
        rss_after = rss_mb(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    failures: list[str] = []
    counts = {"valid": 0, "invalid": 0, "oversized": 0, "5xx": 0, "reset": 0}
    latencies = []
    for (kind, _, want), (status, data, latency) in zip(plan, results):
        counts[kind] += 1
        latencies.append(latency)
        if status >= 500:
            counts["5xx"] += 1
        if status == -1:
            counts["reset"] += 1
        if kind == "valid" and (status != 200 or json.loads(data) != want):
            failures.append(f"valid case answered {status}, not the command line's determination")
        elif kind == "invalid":
            errors = json.loads(data).get("errors", []) if 400 <= status < 500 else None
            if not errors or errors[0]["path"] != want:
                failures.append(f"invalid body answered {status} {data[:120]!r}, expected a 4xx naming {want!r}")
        elif kind == "oversized" and status not in (413, -1):
            failures.append(f"oversized body answered {status}")
    latencies.sort()
    return {
        "requests": len(plan), "clients": clients, "seconds": seconds, "per_second": len(plan) / seconds,
        "p50_ms": statistics.median(latencies) * 1000, "p95_ms": latencies[int(0.95 * (len(latencies) - 1))] * 1000,
        "rss_before_mb": rss_before, "rss_halfway_mb": halfway[0], "rss_after_mb": rss_after,
        "counts": counts, "failures": failures,
    }


def rows(requests: int = 600, clients: int = 8) -> list[tuple]:
    r = run(requests, clients)
    c = r["counts"]
    ok = "all as expected" if not r["failures"] else f"{len(r['failures'])} FAILED: {r['failures'][0]}"
    return [
        (f"kbquery serve, loopback: {r['requests']} requests by {r['clients']} concurrent clients "
         f"({c['valid']} valid, {c['invalid']} invalid, {c['oversized']} oversized); {ok}; "
         f"{c['5xx']} 5xx, {c['reset']} connections closed early",
         f"p50 {r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms", f"{r['per_second']:.0f} requests/s",
         f"service memory {r['rss_before_mb']:.0f} MB warm, {r['rss_halfway_mb']:.0f} MB halfway, "
         f"{r['rss_after_mb']:.0f} MB at the end"),
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args(argv)
    r = run(args.requests, args.clients)
    print(json.dumps({k: v for k, v in r.items() if k != "failures"}, indent=2))
    for f in r["failures"][:10]:
        print("FAILED:", f)
    return 1 if r["failures"] or r["counts"]["5xx"] else 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
