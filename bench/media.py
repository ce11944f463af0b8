#!/usr/bin/env python3
"""The photo benchmark: builds release, starts the server on a fresh SQLite database and
media folder, uploads a 12-megapixel JPEG (bench/photo.rs) and times how long until every
rendition is ready, then drives wrk from a second process at the rendition nearest 100 KB.
Prints a markdown table. See bench/README.md."""

import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from run import BASE, EDITOR, PASSWORD, PORT, ROOT, SECRET, ensure_wrk, get, login, run


def build():
    run(["cargo", "build", "--release", "--quiet", "--bin", "newsroom",
         "--example", "bench_photo"], cwd=ROOT)


def multipart(field, filename, data, mime):
    boundary = "newsroom-bench-boundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
            f"filename=\"{filename}\"\r\nContent-Type: {mime}\r\n\r\n").encode()
    return boundary, head + data + f"\r\n--{boundary}--\r\n".encode()


def call(method, path, token, body=None, headers=None):
    req = urllib.request.Request(BASE + path, data=body, method=method,
                                 headers=dict(headers or {}, Authorization=f"Bearer {token}"))
    with urllib.request.urlopen(req, timeout=120) as res:
        return json.loads(res.read())


def upload_until_ready(token, photo):
    """Seconds from sending the upload to every rendition being ready; the item."""
    boundary, body = multipart("file", "photo.jpg", photo, "image/jpeg")
    started = time.monotonic()
    item = call("POST", "/api/v1/media", token, body,
                {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    while True:
        item = call("GET", f"/api/v1/media/{item['id']}", token)
        if all(r["ready"] for r in item["renditions"]):
            return time.monotonic() - started, item
        time.sleep(0.02)


def wrk_url(url, connections, seconds):
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def ms(label):
        m = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)\b", out)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    return rps, ms("50"), ms("99")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--uploads", type=int, default=3)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--seconds", type=int, default=10)
    args = ap.parse_args()
    ensure_wrk()
    build()
    photo = subprocess.run([str(ROOT / "target/release/examples/bench_photo")],
                           capture_output=True, check=True).stdout
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, DATABASE_URL=f"{tmp}/bench.db", NEWSROOM_BIND=f"127.0.0.1:{PORT}",
                   NEWSROOM_JWT_SECRET=SECRET, NEWSROOM_MEDIA_STORE=f"{tmp}/media",
                   NEWSROOM_PUBLIC_URL=BASE, RUST_LOG="warn")
        binary = str(ROOT / "target/release/newsroom")
        subprocess.run([binary, "create-user", "--email", EDITOR, "--name", "Bench Editor",
                        "--role", "editor", "--password-stdin"], input=PASSWORD + "\n",
                       text=True, env=env, check=True, stdout=subprocess.DEVNULL)
        server = subprocess.Popen([binary, "serve"], env=env)
        try:
            for _ in range(300):
                try:
                    if get("/health/ready")[0] == 200:
                        break
                except OSError:
                    time.sleep(0.1)
            token = login()
            status = Path(f"/proc/{server.pid}/status")
            idle = int(re.search(r"VmRSS:\s+(\d+) kB", status.read_text()).group(1)) / 1024
            times, item = [], None
            for _ in range(args.uploads):
                seconds, item = upload_until_ready(token, photo)
                times.append(seconds)
            peak = int(re.search(r"VmHWM:\s+(\d+) kB", status.read_text()).group(1)) / 1024
            sizes = []
            for r in item["renditions"]:
                with urllib.request.urlopen(r["url"], timeout=30) as res:
                    sizes.append((len(res.read()), r))
            size, nearest = min(sizes, key=lambda s: abs(s[0] - 100_000))
            wrk_url(nearest["url"], args.connections, 2)  # warm-up
            rps, p50, p99 = wrk_url(nearest["url"], args.connections, args.seconds)
        finally:
            server.terminate()
            server.wait(timeout=60)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    print(f"newsroom media bench, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"commit {commit}, {os.cpu_count()} cores\n")
    print("| scenario | result |\n|---|---|")
    print(f"| 12 MP JPEG ({len(photo) / 1e6:.1f} MB), upload to every one of "
          f"{len(item['renditions'])} renditions ready, median of {args.uploads} | "
          f"{statistics.median(times):.2f} s (runs: {', '.join(f'{t:.2f}' for t in times)}) |")
    print(f"| server RSS: before the uploads, peak during them | {idle:.0f} MB, {peak:.0f} MB |")
    print(f"| GET /media/{nearest['url'].rsplit('/', 1)[1].split('-', 1)[1]} ({size / 1000:.0f} KB), "
          f"wrk c={args.connections} {args.seconds} s | {rps:,.0f} req/s, p50 {p50:.2f} ms, "
          f"p99 {p99:.2f} ms |")


if __name__ == "__main__":
    main()
