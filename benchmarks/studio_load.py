"""Load on gankit studio: many concurrent sample requests against a studio started as its own process.

usage: python benchmarks/studio_load.py RUN [RUN...] [--requests 50] [--n 16] [--out benchmarks/results/studio-load]

For each run: starts `gankit studio RUN --port 0`, waits for its URL, then sends --requests requests all at
once from as many threads (a noise model: samples of n images with different seeds; a translator: a picture
of its input size to translate, with a hole mask for inpainting; a text model: n texts), bounded by a timeout. Meanwhile it asks for the run list
(which needs no model work) every 0.2 s, to see that the server stays responsive. Reports every request's
status, p50/p95/max latency, the ping latencies, and the server's memory (VmRSS before, VmHWM after: its peak),
and writes a Markdown table (a row per run) and a JSON file.
"""
import argparse
import base64
import io
import json
import platform
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def memory_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def post(url: str, body: dict, timeout: float) -> tuple[int, float]:
    start = time.perf_counter()
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as err:
        status = err.code
    except OSError:
        status = 0  # timed out or refused
    return status, time.perf_counter() - start


def request_body(run: dict, n: int, i: int) -> tuple[str, dict]:
    """The action and body of request i for a run as /api/runs describes it."""
    if run["kind"] in ("noise", "points"):
        return "sample", {"n": n, "seed": i}
    if run["kind"] == "text":
        return "text", {"n": n, "seed": i}
    from PIL import Image

    shape = run["inputs"]["a2b"]
    def url(picture):
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG")
        return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    picture = Image.effect_noise((shape[-1], shape[-2]), 40 + i % 20).convert("L" if shape[0] == 1 else "RGB")
    body = {"image": url(picture)}
    if run["kind"] == "inpaint":
        mask = Image.new("L", picture.size)
        mask.paste(255, (2, 2, picture.width // 2, picture.height // 2))
        body["mask"] = url(mask)
    return "translate", body


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def load(run: str, requests: int, n: int, timeout: float) -> dict:
    """One run's row: start its studio, send the requests at once, stop it."""
    server = subprocess.Popen([sys.executable, "-m", "gankit", "studio", run, "--port", "0"],
                              stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        if "http://" not in line:
            sys.exit(f"the studio did not start: {line.strip() or 'no output'}")
        url = line[line.index("http://"):].split()[0]
        with urllib.request.urlopen(url + "api/runs", timeout=60) as response:
            described = json.loads(response.read())[0]
        bodies = [request_body(described, n, i) for i in range(requests + 1)]
        post(url + f"api/runs/0/{bodies[0][0]}", bodies[0][1], timeout)  # warm-up
        rss_before = memory_kb(server.pid, "VmRSS")
        pings, done = [], threading.Event()

        def ping() -> None:
            while not done.is_set():
                start = time.perf_counter()
                try:
                    with urllib.request.urlopen(url + "api/runs", timeout=30) as response:
                        response.read()
                    pings.append(time.perf_counter() - start)
                except OSError:
                    pings.append(float("inf"))
                time.sleep(0.2)

        pinger = threading.Thread(target=ping, daemon=True)
        pinger.start()
        start = time.perf_counter()
        with ThreadPoolExecutor(requests) as pool:
            results = list(pool.map(lambda b: post(url + f"api/runs/0/{b[0]}", b[1], timeout), bodies[1:]))
        wall = time.perf_counter() - start
        done.set()
        pinger.join()
        peak = memory_kb(server.pid, "VmHWM")
    finally:
        server.terminate()
        server.wait(30)
    latencies = [t for status, t in results if status == 200]
    return {"run": Path(run).name, "kind": described["kind"], "machine": f"{platform.processor() or platform.machine()}", "requests": requests, "n": n,
           "ok": len(latencies), "statuses": sorted({s for s, _ in results}), "wall_s": round(wall, 2),
           "p50_s": round(percentile(latencies, 0.5), 3) if latencies else None,
           "p95_s": round(percentile(latencies, 0.95), 3) if latencies else None,
           "max_s": round(max(latencies), 3) if latencies else None,
           "ping_p50_ms": round(1000 * statistics.median(pings), 1) if pings else None,
           "ping_max_ms": round(1000 * max(pings), 1) if pings else None,
           "rss_before_mb": round(rss_before / 1024, 1), "peak_rss_mb": round(peak / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--n", type=int, default=16, help="images per request (default 16)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds one request may take (default 300)")
    parser.add_argument("--out", default="benchmarks/results/studio-load")
    args = parser.parse_args()
    if not 1 <= args.requests <= 1000:
        parser.error("--requests must be between 1 and 1000")
    rows = [load(run, args.requests, args.n, args.timeout) for run in args.runs]
    table = ("| run (kind) | requests at once | images each | completed | wall (s) | p50 (s) | p95 (s) | max (s) | "
             "run list during load, p50 / max (ms) | server memory before / peak (MB) |\n"
             "|---|---|---|---|---|---|---|---|---|---|\n")
    for row in rows:
        table += (f"| {row['run']} ({row['kind']}) | {row['requests']} | {row['n'] if row['kind'] in ('noise', 'text') else 1} | {row['ok']} / {row['requests']} | {row['wall_s']} | "
                  f"{row['p50_s']} | {row['p95_s']} | {row['max_s']} | {row['ping_p50_ms']} / {row['ping_max_ms']} | "
                  f"{row['rss_before_mb']} / {row['peak_rss_mb']} |\n")
    print(table)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(table)
    out.with_suffix(".json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
