"""Checks newsroom with the real components its users run beside it.

1. Webhooks: a receiver verifies every delivery with the reference implementation of the
   Standard Webhooks specification (PyPI `standardwebhooks`), and refuses tampered ones.
2. Varnish with vmod xkey and deploy/varnish/default.vcl in front of the server: after an edit
   or a publication, the next read through Varnish shows it within a second, while other
   pages stay cached; token-bearing requests are never cached.

Usage: python components-check.py <server base URL> <varnish base URL> <admin token> <editor token>
"""
import json
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SERVER, VARNISH, ADMIN, EDITOR = sys.argv[1:5]
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def call(method, url, token=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
            return response.status, lower(response.headers), json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        return error.code, lower(error.headers), json.loads(error.read() or b"null")


def lower(headers):
    return {name.lower(): value for name, value in headers.items()}


# --- 1. Webhooks, verified by the reference implementation ------------------------------

received = []


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        received.append((dict((k.lower(), v) for k, v in self.headers.items()), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=receiver.serve_forever, daemon=True).start()
hook_url = f"http://127.0.0.1:{receiver.server_address[1]}/hooks/newsroom"
status, _, hook = call("POST", f"{SERVER}/api/v1/webhooks", ADMIN, {"url": hook_url, "events": ["*"]})
check(status == 201, f"webhook created ({status})")
call("POST", f"{SERVER}/api/v1/webhooks/{hook['id']}/ping", ADMIN)
status, _, story = call(
    "POST",
    f"{SERVER}/api/v1/articles",
    EDITOR,
    {"title": "Signed delivery", "body": "<p>Signed.</p>", "status": "published"},
)
check(status == 201, f"article published ({status})")
deadline = time.time() + 15
while len(received) < 3 and time.time() < deadline:
    time.sleep(0.1)
check(len(received) >= 3, f"{len(received)} deliveries arrived (ping, created, published)")
verifier = Webhook(hook["secret"])
types = []
for headers, body in received:
    try:
        payload = verifier.verify(body, headers)
        types.append(payload["type"])
    except WebhookVerificationError as error:
        check(False, f"signature of {headers.get('webhook-id')}: {error}")
check(
    {"webhook.ping", "article.created", "article.published"} <= set(types),
    f"every delivery verified by standardwebhooks: {types}",
)
if received:
    headers, body = received[-1]
    try:
        verifier.verify(body.replace(b'"seq":', b'"seq": '), headers)
        check(False, "a tampered body was accepted")
    except WebhookVerificationError:
        check(True, "a tampered body is refused by the verifier")
    try:
        Webhook("whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB").verify(body, headers)
        check(False, "another secret verified the signature")
    except WebhookVerificationError:
        check(True, "another secret does not verify")
receiver.shutdown()

# --- 2. Varnish in front, purged by key --------------------------------------------------


def through_varnish(path, token=None):
    status, headers, body = call("GET", f"{VARNISH}{path}", token)
    return status, headers.get("x-varnish-cache"), body


def settle_cache(path):
    """Reads until Varnish holds the page: the cache state of the last read, a HIT as soon as
    one comes. Purges are sent after their write commits, so the purge of the article just
    created may still arrive after the first read and evict it: within two seconds a cacheable
    page must be a hit."""
    deadline = time.time() + 2.0
    state = through_varnish(path)[1]
    while state != "HIT" and time.time() < deadline:
        time.sleep(0.05)
        state = through_varnish(path)[1]
    return state


def article(title, topic=None):
    body = {"title": title, "body": f"<p>{title}</p>", "status": "published"}
    if topic:
        body["topic_ids"] = [topic]
    status, _, created = call("POST", f"{SERVER}/api/v1/articles", EDITOR, body)
    assert status == 201, created
    return created


def within_a_second(path, wanted):
    """Polls through Varnish; how long until `wanted(body)` held, or None."""
    started = time.time()
    while time.time() - started < 1.0:
        _, _, body = through_varnish(path)
        if wanted(body):
            return time.time() - started
        time.sleep(0.02)
    return None


status, _, topic = call("POST", f"{SERVER}/api/v1/topics", EDITOR, {"name": "Varnish desk"})
a = article("Varnish story A", topic["id"])
b = article("Varnish story B")
page_a, page_b = f"/api/v1/articles/{a['id']}", f"/api/v1/articles/{b['id']}"
topic_list = f"/api/v1/articles?topic={topic['id']}"
for path in [page_a, page_b, topic_list, "/api/v1/articles"]:
    check(settle_cache(path) == "HIT", f"{path} is cached by Varnish")

status, _, _ = call("PATCH", f"{SERVER}{page_a}", EDITOR, {"title": "Varnish story A, edited"})
took = within_a_second(page_a, lambda body: body and body["title"] == "Varnish story A, edited")
check(took is not None, f"an edit of A shows through Varnish within 1 s ({took and round(took, 3)} s)")
check(through_varnish(page_b)[1] == "HIT", "B is still a Varnish hit after A's edit")

c = article("Varnish story C", topic["id"])
took = within_a_second(topic_list, lambda body: body and c["id"] in [x["id"] for x in body["data"]])
check(took is not None, f"a publication shows in its topic's list within 1 s ({took and round(took, 3)} s)")
took = within_a_second("/api/v1/articles", lambda body: body and body["data"][0]["id"] == c["id"])
check(took is not None, f"and on the home list within 1 s ({took and round(took, 3)} s)")
check(through_varnish(page_b)[1] == "HIT", "B is still a Varnish hit after C's publication")

states = [through_varnish(page_a, EDITOR)[1] for _ in range(3)]
check(all(s == "MISS" for s in states), f"a token-bearing read is never a Varnish hit: {states}")
status, headers, staff_view = call("GET", f"{VARNISH}{page_a}", EDITOR)
check(
    status == 200 and "private" in headers.get("cache-control", ""),
    f"the signed-in read is the server's own, marked private ({headers.get('cache-control')})",
)
check(through_varnish(page_a)[1] == "HIT", "and the anonymous page stayed as it was cached")

# A draft never reaches the anonymous cache.
status, _, draft = call("POST", f"{SERVER}/api/v1/articles", EDITOR, {"title": "Varnish draft", "body": "<p>x</p>"})
status, _, _ = through_varnish(f"/api/v1/articles/{draft['id']}")
check(status == 404, f"a draft through Varnish is 404 ({status})")

if failures:
    print(f"{len(failures)} component checks failed")
    sys.exit(1)
print("every component check passed")
