#!/usr/bin/env python3
"""The newsroom benchmark: builds release, seeds a dataset, starts the server, drives load
with wrk from a second process and prints one table (requests/s, p50, p99, peak RSS), with
each target checked. See bench/README.md."""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "target" / "bench"
PASSWORD = "bench-password-2026"
EDITOR = "bench@newsroom.example"
PORT = 18181
BASE = f"http://127.0.0.1:{PORT}"
SECRET = "bench-secret-" + "x" * 40
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
# The server's RUST_LOG (--log): warn leaves the access log out, info (the server's own
# default) writes a line per request.
LOG = {"level": "warn"}

# Frequency ranks of the proper names searched for (bench/seed.rs draws names Zipf-like).
SEARCH_RANKS = [3, 7, 12, 20, 35, 60, 90, 150, 250, 400, 600, 900, 1400, 2000, 3000]


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def run(cmd, **kw):
    log("$", " ".join(str(c) for c in cmd))
    return subprocess.run(cmd, check=True, **kw)


def ensure_wrk():
    if shutil.which("wrk"):
        return
    apt = ["apt-get", "install", "-y", "-q", "wrk"]
    if os.geteuid() != 0:
        apt = ["sudo"] + apt
    if subprocess.run(apt, stdout=subprocess.DEVNULL).returncode != 0:
        run(apt[:-4] + ["update", "-q"], stdout=subprocess.DEVNULL)
        run(apt, stdout=subprocess.DEVNULL)


def build():
    run(["cargo", "build", "--release", "--quiet", "--bin", "newsroom",
         "--example", "bench_seed", "--example", "bench_ceiling"], cwd=ROOT)


def psql(url, sql):
    return subprocess.run(["psql", url, "-tAc", sql], check=True, capture_output=True,
                          text=True).stdout.strip()


def dataset(backend, articles):
    """The database URL of a seeded dataset, and the seconds seeding took (None: reused)."""
    DATA.mkdir(parents=True, exist_ok=True)
    seed = [str(ROOT / "target/release/examples/bench_seed"), "--articles", str(articles)]
    env = dict(os.environ, BENCH_PASSWORD=PASSWORD)
    if backend == "sqlite":
        path = DATA / f"sqlite-{articles}.db"
        done = path.with_suffix(".done")
        if done.exists():
            return str(path), None
        for old in DATA.glob(f"sqlite-{articles}.db*"):
            old.unlink()
        started = time.monotonic()
        run(seed + ["--database-url", str(path)], env=env)
        done.touch()
        return str(path), time.monotonic() - started
    name = f"newsroom_bench_{articles}"
    url = f"postgres://postgres@127.0.0.1:5432/{name}"
    exists = psql(PG_ADMIN, f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
    if exists and psql(url, "SELECT to_regclass('bench_done') IS NOT NULL") == "t":
        return url, None
    psql(PG_ADMIN, f"DROP DATABASE IF EXISTS {name}")
    psql(PG_ADMIN, f"CREATE DATABASE {name}")
    started = time.monotonic()
    run(seed + ["--database-url", url], env=env)
    psql(url, "CREATE TABLE bench_done ()")
    return url, time.monotonic() - started


class Server:
    def __init__(self, url, cache, binary=None):
        env = dict(os.environ, DATABASE_URL=url, NEWSROOM_BIND=f"127.0.0.1:{PORT}",
                   NEWSROOM_JWT_SECRET=SECRET, NEWSROOM_ACCESS_TOKEN_TTL="86400",
                   NEWSROOM_RESPONSE_CACHE_MB="32" if cache else "0", RUST_LOG=LOG["level"])
        self.log = open(DATA / "server.log", "ab")
        binary = binary or ROOT / "target/release/newsroom"
        self.proc = subprocess.Popen([str(binary), "serve"], env=env,
                                     stdout=self.log, stderr=self.log)
        for _ in range(300):
            try:
                if get("/health/ready")[0] == 200:
                    return
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise SystemExit(f"the server exited: see {DATA / 'server.log'}")
            time.sleep(0.1)
        raise SystemExit("the server did not become ready")

    def reset_peak(self):
        Path(f"/proc/{self.proc.pid}/clear_refs").write_text("5")

    def peak_rss_mb(self):
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        kb = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))
        return kb / 1024

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        self.log.close()


def get(path, headers=None):
    req = urllib.request.Request(BASE + path, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status, res.headers, res.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def get_json(path):
    status, _, body = get(path)
    if status != 200:
        raise SystemExit(f"GET {path}: {status} {body[:300]!r}")
    return json.loads(body)


def login():
    body = json.dumps({"email": EDITOR, "password": PASSWORD}).encode()
    req = urllib.request.Request(BASE + "/api/v1/auth/login", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as res:
        return json.loads(res.read())["access_token"]


def put_front(token, slug, paths):
    """Writes the bench's front (issue #19): six sections, 40 items in all: a lead and a
    related block curated (with overrides), then fills from the latest, two sections, an author
    and a language."""
    ids = paths["public_ids"]
    curated = lambda first, n: [{"article_id": i, "headline": f"Front headline {i}"}
                                for i in ids[first:first + n]]
    sections = [
        {"key": "lead", "title": "Top story", "max_items": 1, "items": curated(0, 1)},
        {"key": "related", "title": "Related", "max_items": 10, "items": curated(1, 10)},
        {"key": "latest", "title": "All news", "max_items": 9, "fill": {}},
        {"key": "section-a", "title": "Section", "max_items": 5,
         "fill": {"topic": paths["sections"][0]}},
        {"key": "section-b", "title": "Section", "max_items": 5,
         "fill": {"topic": paths["sections"][1]}},
        {"key": "author", "title": "Columnist", "max_items": 10,
         "fill": {"author": paths["authors"][0]}},
    ]
    body = json.dumps({"title": "Bench front", "sections": sections}).encode()
    req = urllib.request.Request(BASE + f"/api/v1/fronts/{slug}", data=body, method="PUT",
                                 headers={"Content-Type": "application/json",
                                          "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=30) as res:
        res.read()
    return f"/api/v1/fronts/{slug}"


LIVE_SLUG = "bench-live-blog"
LIVE_ENTRIES = 1000


def send(method, path, token, body):
    req = urllib.request.Request(BASE + path, data=json.dumps(body).encode(), method=method,
                                 headers={"Content-Type": "application/json",
                                          "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=30) as res:
        return json.loads(res.read())


def live_blog(token):
    """A published live article with 1,000 entries (issue #19), made once per dataset."""
    if get(f"/api/v1/articles/{LIVE_SLUG}")[0] != 200:
        send("POST", "/api/v1/articles", token,
             {"title": "Bench live blog", "slug": LIVE_SLUG, "body": "<p>Live.</p>",
              "format": "live", "status": "published"})
        for n in range(LIVE_ENTRIES):
            send("POST", f"/api/v1/articles/{LIVE_SLUG}/entries", token,
                 {"body": f"<p>Update {n}: the count goes on in the capital.</p>",
                  "title": f"Update {n}", "key_event": n % 10 == 0})
    return f"/api/v1/articles/{LIVE_SLUG}/entries?limit=20"


def q(path, **params):
    return path + "?" + urllib.parse.urlencode(params)


def name(n, cyrillic=False):
    """The proper name number n, as bench/seed.rs writes it."""
    syllables = (["ка", "ра", "вш", "он", "ду", "бе", "мир", "зо", "та", "ли", "на", "гор",
                  "вак", "ша", "ул", "те"] if cyrillic else
                 ["ka", "ra", "vsh", "on", "du", "be", "mir", "zo", "ta", "li", "na", "gor",
                  "vak", "sha", "ul", "te"])
    word = syllables[n % 16] + syllables[(n // 16) % 16] + syllables[(n // 256) % 16]
    return word[0].upper() + word[1:]


def discover(articles):
    """Paths for the scenarios, read through the API itself."""
    topics = get_json("/api/v1/topics")["data"]
    sections = sorted((t for t in topics if t["parent_id"] is None),
                      key=lambda t: -t["article_count"])
    authors = get_json("/api/v1/authors?limit=100")["data"]
    latest = get_json("/api/v1/articles?limit=100")["data"]
    slugs = [a["slug"] for a in latest]
    public_ids = [a["id"] for a in latest]
    # A page 50,000 items deep (or as deep as a small archive goes), walked by cursor.
    depth = min(50_000, int(articles * 0.85) - 100)
    cursor, walked = None, 0
    while walked < depth:
        params = {"limit": 100}
        if cursor:
            params["cursor"] = cursor
        page = get_json(q("/api/v1/articles", **params))
        walked += len(page["data"])
        slugs += [a["slug"] for a in page["data"][:2]]
        public_ids += [a["id"] for a in page["data"]]
        cursor = page["next_cursor"]
    searches = []
    for i, rank in enumerate(SEARCH_RANKS):
        searches.append(name(rank, cyrillic=i % 3 == 2))
        searches.append(name(rank) + " " + ["border", "market", "election"][i % 3])
    return {
        "sections": [t["slug"] for t in sections],
        "authors": [a["slug"] for a in authors],
        "slugs": slugs,
        "deep": q("/api/v1/articles", limit=20, cursor=cursor),
        "depth": walked,
        "searches": searches,
        "topic_ids": [t["id"] for t in topics],
        "article_ids": [a["id"] for a in latest],
        "public_ids": public_ids,
    }


def zipf_day(paths, samples=20_000, seed=20261201):
    """A newsroom's day of reads: article pages with related headlines, section and author
    feeds and the home feed, each drawn Zipf-like (a few pages take most of the traffic, the
    archive its long tail), newest articles most read."""
    import random
    rng = random.Random(seed)
    pages = [f"/api/v1/articles/{i}?include=related" for i in paths["public_ids"]]
    sections = [q("/api/v1/articles", limit=20, topic=s) for s in paths["sections"]]
    authors = [q("/api/v1/articles", limit=20, author=a) for a in paths["authors"]]

    def zipf(items):
        weights = [1 / (rank + 1) for rank in range(len(items))]
        return rng.choices(items, weights=weights)[0]

    out = []
    for _ in range(samples):
        kind = rng.random()
        if kind < 0.70:
            out.append(zipf(pages))
        elif kind < 0.85:
            out.append(zipf(sections))
        elif kind < 0.95:
            out.append(zipf(authors))
        else:
            out.append("/api/v1/articles?limit=20")
    return out


class DayWriter:
    """The desk at work while readers read: an edit of a random published article every second,
    a new published article every ten, the first at the fifth second (a run lasts ten)."""

    def __init__(self, token, paths):
        import random
        import threading
        self.rng = random.Random(7)
        self.token, self.paths = token, paths
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def send(self, method, path, body):
        req = urllib.request.Request(BASE + path, data=json.dumps(body).encode(), method=method,
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {self.token}"})
        try:
            urllib.request.urlopen(req, timeout=10).read()
        except urllib.error.HTTPError as e:
            log(f"the desk's {method} {path} got {e.code}")

    def run(self):
        n = 0
        while not self.stop.wait(1.0):
            n += 1
            if n % 10 == 5:
                self.send("POST", "/api/v1/articles", {
                    "title": f"Day desk {n}-{self.rng.randrange(10**6)}: news of the hour",
                    "body": "<p>Filed during the benchmark's day.</p>", "status": "published",
                    "topic_ids": [self.rng.choice(self.paths["topic_ids"])]})
            else:
                article = self.rng.choice(self.paths["public_ids"])
                self.send("PATCH", f"/api/v1/articles/{article}",
                          {"summary": f"Edited at second {n} of the benchmark's day."})

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.stop.set()
        self.thread.join()


def lua_list(values):
    return "{" + ",".join(json.dumps(v) for v in values) + "}"


# Counts the answers the server's cache gave (`X-Cache: hit|miss`), printed at the end.
CACHE_COUNTS = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) hits = 0; misses = 0 end
function response(status, headers, body)
  local seen = headers["x-cache"] or headers["X-Cache"]
  if seen == "hit" then hits = hits + 1 elseif seen == "miss" then misses = misses + 1 end
end
function done(summary, latency, requests)
  local h, m = 0, 0
  for _, t in ipairs(threads) do h = h + t:get("hits"); m = m + t:get("misses") end
  io.write(string.format("cache hits %d misses %d\\n", h, m))
end
"""


def rotating(paths, headers=None, counted=False):
    return (CACHE_COUNTS if counted else "") + f"""
local paths = {lua_list(paths)}
local headers = {{{",".join(f'["{k}"]={json.dumps(v)}' for k, v in (headers or {}).items())}}}
local n = math.random(#paths)
request = function()
  n = n % #paths + 1
  return wrk.format("GET", paths[n], headers)
end
"""


def writing(reads, token, topic_ids, article_ids, every):
    """Every `every`-th request a write by an editor (half new published articles, half edits
    of published ones); the others anonymous reads of `reads`."""
    return f"""
local reads = {lua_list(reads)}
local topics = {lua_list(topic_ids)}
local edits = {lua_list(article_ids)}
local auth = {{["Authorization"]="Bearer {token}", ["Content-Type"]="application/json"}}
local n = math.random(1000)
request = function()
  n = n + 1
  if n % {every} == 0 then
    if math.floor(n / {every}) % 2 == 0 then
      local body = string.format('{{"title":"Bench wire %d-%d: markets and border talks",' ..
        '"body":"<p>Filed by the benchmark. Prices rose and talks went on.</p>",' ..
        '"status":"published","topic_ids":[%d]}}', n, math.random(1000000), topics[math.random(#topics)])
      return wrk.format("POST", "/api/v1/articles", auth, body)
    end
    local body = string.format('{{"summary":"Updated by the benchmark, round %d."}}', n)
    return wrk.format("PATCH", "/api/v1/articles/" .. edits[math.random(#edits)], auth, body)
  end
  return wrk.format("GET", reads[math.random(#reads)])
end
"""


def duration_ms(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def wrk(script, connections, seconds):
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    threads = "1" if connections <= 64 else "2"
    out = subprocess.run(["wrk", "-t", threads, "-c", str(connections), "-d", f"{seconds}s",
                          "--timeout", "5s", "--latency", "-s", f.name, BASE],
                         check=True, capture_output=True, text=True).stdout
    os.unlink(f.name)
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    cache = re.search(r"cache hits (\d+) misses (\d+)", out)
    return {
        # A row where nothing completed counts as failing, whatever wrk's error lines say.
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": duration_ms(lat["50"]),
        "p99": duration_ms(lat["99"]),
        "errors": errors + (int(bad.group(1)) if bad else 0) + (1 if requests == 0 else 0),
        "hit_rate": (int(cache.group(1)) / max(1, int(cache.group(1)) + int(cache.group(2)))
                     if cache else None),
    }


def scenarios(paths, token, etag):
    """(name, server mode, wrk script, whether the desk writes meanwhile). 'db': the response
    cache is off, so every request runs its queries; 'cache': the production default."""
    latest = "/api/v1/articles?limit=20"
    reads = ([latest] + [q("/api/v1/articles", limit=20, topic=s) for s in paths["sections"]]
             + [f"/api/v1/articles/{s}?include=related" for s in paths["slugs"][:200]])
    plain = [
        ("health/live", "cache", rotating(["/health/live"])),
        ("latest feed", "db", rotating([latest])),
        ("topic feed (descendants)", "db",
         rotating([q("/api/v1/articles", limit=20, topic=s) for s in paths["sections"]])),
        ("author feed", "db",
         rotating([q("/api/v1/articles", limit=20, author=a) for a in paths["authors"]])),
        (f"page {paths['depth']:,} deep", "db", rotating([paths["deep"]])),
        ("article + related", "db",
         rotating([f"/api/v1/articles/{s}?include=related" for s in paths["slugs"]])),
        ("search q=", "db", rotating([q("/api/v1/articles", q=s) for s in paths["searches"]])),
        ("front (6 sections, 40 items)", "db", rotating([paths["front"]])),
        ("live entries (1,000)", "db", rotating([paths["live"]])),
        ("repeated read (cache)", "cache", rotating([latest])),
        ("conditional read (304)", "cache", rotating([latest], {"If-None-Match": etag})),
        ("conditional read (304), no cache", "db",
         rotating([latest], {"If-None-Match": etag})),
        ("mixed 95% read/5% write", "cache",
         writing(reads, token, paths["topic_ids"], paths["article_ids"], 20)),
        ("write only", "cache", writing(reads, token, paths["topic_ids"], paths["article_ids"], 1)),
    ]
    day = rotating(zipf_day(paths), counted=True)
    return [(name_, mode, script, False) for name_, mode, script in plain] + [
        ("newsroom day", "cache", day, True),
        ("newsroom day, no writes", "cache", day, False),
    ]


# The minimal handler (bench/ceiling.rs): one pooled connection, one indexed SELECT of 20 rows.
CEILING = ("ceiling: one handler, one SELECT", "ceiling", rotating(["/ceiling"]), False)


def measure(url, articles, mode, only, connections, seconds, binary=None):
    """Starts a server (`mode` cache or db, or the ceiling's) of `binary` on the dataset at
    `url` and yields (scenario, connections, result) for each scenario of that mode matching
    `only`."""
    if mode == "ceiling":
        if only and not re.search(only, CEILING[0]):
            return
        binary = ROOT / "target/release/examples/bench_ceiling"
    server = Server(url, cache=mode == "cache", binary=binary)
    try:
        if mode == "ceiling":
            paths, token, listed = None, None, [CEILING]
        else:
            paths = discover(articles)
            token = login()
            paths["front"] = put_front(token, "bench-home", paths)
            paths["live"] = live_blog(token)
            etag = get("/api/v1/articles?limit=20")[1]["ETag"]
            listed = scenarios(paths, token, etag)
        for name_, needs, script, desk in listed:
            if needs != mode or (only and not re.search(only, name_)):
                continue
            for c in connections:
                wrk(script, c, 2)  # warm-up
                server.reset_peak()
                if desk:
                    with DayWriter(token, paths):
                        r = wrk(script, c, seconds)
                else:
                    r = wrk(script, c, seconds)
                r["rss"] = server.peak_rss_mb()
                yield name_, c, r
    finally:
        server.stop()


def bench_backend(backend, articles, connections, seconds, only):
    url, seeded = dataset(backend, articles)
    results = []
    for mode in ("cache", "db", "ceiling"):
        for name_, c, r in measure(url, articles, mode, only, connections, seconds):
            r.update(backend=backend, scenario=name_, mode=mode, conns=c)
            hits = "" if r["hit_rate"] is None else f" hits {r['hit_rate']:.0%}"
            log(f"{backend:8} {name_:28} {mode:5} c={c:<4} {r['rps']:>9.0f}/s "
                f"p50 {r['p50']:.2f} ms p99 {r['p99']:.2f} ms errors {r['errors']} "
                f"rss {r['rss']:.0f} MB{hits}")
            results.append(r)
    return results, seeded


def compare(backend, articles, connections, seconds, only, against, rounds, mode):
    """The scenarios matching `only` for another build (`against`, e.g. the commit before a
    change) and this one, alternating, `rounds` times each on one dataset: medians and ratios
    from one run, as the machine's noise asks."""
    url, _ = dataset(backend, articles)
    builds = [("before", Path(against)), ("after", ROOT / "target/release/newsroom")]
    samples = {}
    for round_ in range(rounds):
        for label, binary in builds:
            for name_, c, r in measure(url, articles, mode, only, connections, seconds,
                                       binary):
                log(f"round {round_ + 1} {label:6} {backend:8} {name_:28} c={c:<4} "
                    f"{r['rps']:>9.0f}/s p99 {r['p99']:.2f} ms")
                samples.setdefault((name_, c, label), []).append(r)

    def median(runs, field):
        values = sorted(r[field] for r in runs if r[field] is not None)
        return values[len(values) // 2] if values else None

    def rate(value):
        return "" if value is None else f"{value:.1%}"

    rows = []
    for (name_, c, label), runs in sorted(samples.items()):
        if label == "before":
            after_runs = samples[(name_, c, "after")]
            before, after = median(runs, "rps"), median(after_runs, "rps")
            rows.append(f"| {backend} | {name_} | {c} | {before:,.0f} | {after:,.0f} | "
                        f"{after / before:.2f} | {median(runs, 'p99'):.1f} | "
                        f"{median(after_runs, 'p99'):.1f} | {rate(median(runs, 'hit_rate'))} | "
                        f"{rate(median(after_runs, 'hit_rate'))} |")
    return rows


def targets(results, backend, scale=1.0):
    """The targets of issue #9; PostgreSQL's are half (scale 0.5)."""
    def one(scenario, conns=32):
        return next((r for r in results if r["backend"] == backend and r["scenario"] == scenario
                     and r["conns"] == conns), None)

    def find(prefix, conns=32):
        return next((r for r in results if r["backend"] == backend
                     and r["scenario"].startswith(prefix) and r["conns"] == conns), None)

    checks = []
    for scenario in ("latest feed", "topic feed (descendants)", "author feed"):
        r = one(scenario)
        if r:
            checks.append((f"{scenario}: >= {6000 * scale:.0f}/s, p99 < {20 / scale:.0f} ms",
                           r["rps"] >= 6000 * scale and r["p99"] < 20 / scale,
                           f"{r['rps']:.0f}/s, p99 {r['p99']:.1f} ms"))
    r = one("article + related")
    if r:
        checks.append((f"article + related: >= {6000 * scale:.0f}/s", r["rps"] >= 6000 * scale,
                       f"{r['rps']:.0f}/s"))
    for scenario in ("repeated read (cache)", "conditional read (304)"):
        r = one(scenario)
        if r:
            checks.append((f"{scenario}: >= {40000 * scale:.0f}/s", r["rps"] >= 40000 * scale,
                           f"{r['rps']:.0f}/s"))
    deep, first = find("page "), one("latest feed")
    if deep and first:
        ratio = deep["p50"] / first["p50"]
        checks.append(("deep page p50 <= 1.3x first page p50", ratio <= 1.3, f"{ratio:.2f}x"))
    r = one("front (6 sections, 40 items)")
    if r and backend == "sqlite":
        checks.append(("front: >= 3,000/s", r["rps"] >= 3000, f"{r['rps']:.0f}/s"))
    r = one("live entries (1,000)")
    if r and backend == "sqlite":
        checks.append(("live entries: >= 5,000/s", r["rps"] >= 5000, f"{r['rps']:.0f}/s"))
    r = one("search q=")
    if r:
        checks.append((f"search p99 < {50 / scale:.0f} ms", r["p99"] < 50 / scale,
                       f"{r['p99']:.1f} ms"))
    # Issue #16: as shares of the minimal handler's throughput in the same run.
    ceiling = one(CEILING[0])
    for scenario, share in (("article + related", 0.5), ("latest feed", 0.65),
                            ("topic feed (descendants)", 0.65), ("author feed", 0.65)):
        r = one(scenario)
        if r and ceiling:
            checks.append((f"{scenario}: >= {share:.0%} of the ceiling",
                           r["rps"] >= share * ceiling["rps"],
                           f"{r['rps'] / ceiling['rps']:.0%} of {ceiling['rps']:.0f}/s"))
    day, quiet = one("newsroom day"), one("newsroom day, no writes")
    if day and quiet and day["hit_rate"] is not None and quiet["hit_rate"]:
        ratio = day["hit_rate"] / quiet["hit_rate"]
        checks.append(("newsroom day: hit rate with writes >= 90% of without", ratio >= 0.9,
                       f"{day['hit_rate']:.1%} / {quiet['hit_rate']:.1%} = {ratio:.2f}"))
        ratio = day["rps"] / quiet["rps"]
        checks.append(("newsroom day: throughput with writes >= 70% of without", ratio >= 0.7,
                       f"{day['rps']:.0f} / {quiet['rps']:.0f}/s = {ratio:.2f}"))
    if day and backend == "sqlite":
        checks.append(("newsroom day: p99 < 20 ms", day["p99"] < 20, f"{day['p99']:.1f} ms"))
    at256 = [r for r in results if r["backend"] == backend and r["conns"] == 256]
    if at256:
        errors = sum(r["errors"] for r in at256)
        checks.append(("no errors at 256 connections", errors == 0, f"{errors} errors"))
    mine = [r for r in results if r["backend"] == backend]
    if mine:
        peak = max(r["rss"] for r in mine)
        checks.append(("server peak RSS < 100 MB", peak < 100, f"{peak:.0f} MB"))
    return checks


def table(results):
    lines = ["| backend | scenario | server | conns | req/s | p50 ms | p99 ms | errors | peak RSS MB "
             "| cache hits |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        hits = "" if r.get("hit_rate") is None else f"{r['hit_rate']:.1%}"
        lines.append(f"| {r['backend']} | {r['scenario']} | {r['mode']} | {r['conns']} | "
                     f"{r['rps']:,.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['errors']} | "
                     f"{r['rss']:.0f} | {hits} |")
    return "\n".join(lines)


def scale_check(backends, sizes, seconds):
    """Feed p50 at the largest size against the smallest: latency flat in archive size."""
    rows, checks = [], []
    for backend in backends:
        p50 = {}
        for size in sizes:
            results, _ = bench_backend(backend, size, [32], seconds, r"feed")
            for r in results:
                r["scenario"] = f"{r['scenario']} @ {size:,}"
                p50.setdefault(size, []).append(r["p50"])
            rows += results
        small, large = min(sizes), max(sizes)
        for i, name_ in enumerate(("latest feed", "topic feed", "author feed")):
            ratio = p50[large][i] / p50[small][i]
            limit = 1.5
            checks.append((f"{backend}: {name_} p50 at {large:,} <= {limit}x at {small:,}",
                           ratio <= limit, f"{ratio:.2f}x"))
    return rows, checks


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--connections", default="32,256")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--only", help="run the scenarios whose name matches this regex")
    ap.add_argument("--scale", help="sizes for the archive-size check instead, e.g. 10000,1000000")
    ap.add_argument("--against", help="another build's binary: compare the --only scenarios "
                    "(cache mode) with it, alternating, and print medians and ratios")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of each build for --against")
    ap.add_argument("--mode", default="cache", choices=["cache", "db"],
                    help="the server for --against: cache (the default) or db (cache off)")
    ap.add_argument("--log", default="warn",
                    help="the server's RUST_LOG (info: the server's default, an access log line "
                    "per request)")
    args = ap.parse_args()
    LOG["level"] = args.log
    ensure_wrk()
    build()
    backends = args.backends.split(",")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    print(f"newsroom bench, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {commit}, "
          f"{os.cpu_count()} cores, wrk {args.seconds} s per row")
    if args.against:
        print("\n| backend | scenario | conns | before req/s | after req/s | after/before "
              "| before p99 ms | after p99 ms | before hits | after hits |\n"
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for backend in backends:
            for row in compare(backend, args.articles,
                               [int(c) for c in args.connections.split(",")], args.seconds,
                               args.only or ".", args.against, args.rounds, args.mode):
                print(row)
        return
    if args.scale:
        sizes = [int(s) for s in args.scale.split(",")]
        rows, checks = scale_check(backends, sizes, args.seconds)
        print(table(rows))
    else:
        rows, checks = [], []
        for backend in backends:
            results, seeded = bench_backend(backend, args.articles,
                                            [int(c) for c in args.connections.split(",")],
                                            args.seconds, args.only)
            rows += results
            seeding = f"seeded in {seeded:.0f} s" if seeded else "reused"
            print(f"\n{backend}, {args.articles:,} articles (dataset {seeding})")
            checks += [(f"{backend}: {c[0]}",) + c[1:]
                       for c in targets(results, backend, 1.0 if backend == "sqlite" else 0.5)]
        print()
        print(table(rows))
    print("\n| target | result | measured |\n|---|---|---|")
    for what, met, measured in checks:
        print(f"| {what} | {'met' if met else 'MISSED'} | {measured} |")


if __name__ == "__main__":
    main()
