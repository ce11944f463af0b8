"""Parses the live server's syndication feeds with real parsers: feedparser for RSS and Atom,
jsonfeed-util for JSON Feed 1.1. Usage: python feeds-check.py http://127.0.0.1:18080"""
import sys
import urllib.request

import feedparser
import jsonfeed

BASE = sys.argv[1]


def fetch(path):
    with urllib.request.urlopen(BASE + path) as response:
        return response.headers.get("Content-Type", ""), response.read()


failures = []
for prefix in ["/feeds", "/feeds/topics/central-asia"]:
    for content in ["summary", "full"]:
        for name, version in [("rss.xml", "rss20"), ("atom.xml", "atom10")]:
            path = f"{prefix}/{name}?content={content}"
            content_type, body = fetch(path)
            feed = feedparser.parse(body)
            problems = []
            if feed.bozo:
                problems.append(f"not well-formed: {feed.bozo_exception}")
            if feed.version != version:
                problems.append(f"version {feed.version!r}")
            if not 0 < len(feed.entries) <= 50:
                problems.append(f"{len(feed.entries)} entries")
            for entry in feed.entries:
                for field in ["title", "link", "published", "author", "tags", "summary"]:
                    if not entry.get(field):
                        problems.append(f"an entry without {field}")
                if content == "full" and not entry.get("content"):
                    problems.append("an entry without content")
            print(f"{path}: {content_type}, {len(feed.entries)} entries", "; ".join(sorted(set(problems))) or "ok")
            if problems:
                failures.append(path)
        path = f"{prefix}/feed.json?content={content}"
        content_type, body = fetch(path)
        try:
            feed = jsonfeed.Feed.parse_string(body.decode())
            problems = [] if 0 < len(feed.items) <= 50 else [f"{len(feed.items)} items"]
            for item in feed.items:
                if not (item.title and item.url and item.date_published and item.authors and item.tags):
                    problems.append("an item without title, url, date, authors or tags")
                if content == "full" and not item.content_html:
                    problems.append("an item without content_html")
        except Exception as err:  # the parser's own validation errors
            problems = [f"{type(err).__name__}: {err}"]
            feed = None
        print(f"{path}: {content_type}, {len(feed.items) if feed else 0} items", "; ".join(sorted(set(problems))) or "ok")
        if problems:
            failures.append(path)

if failures:
    sys.exit(f"invalid feeds: {', '.join(failures)}")
