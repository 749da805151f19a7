#!/usr/bin/env python3
"""A fault-injecting HTTP proxy in front of a registry, for the registry tests
(standard library only).

  registry-proxy.py PORT UPSTREAM_HOST:PORT RULES.json LOG OTHER_PORT

Listens on 127.0.0.1:PORT and forwards every request to UPSTREAM, except
when a rule of RULES.json (re-read on every request) matches:

  [{"id": "x", "method": "GET", "path": "/blobs/sha256:", "action": "503",
    "skip": 0, "times": 1}, ...]

"path" is a regular expression searched in the request path; a rule applies
to its matching requests after the first `skip` of them, `times` times.
Actions:
  503, 500   answer that status with a registry error body
  429        answer 429 with Retry-After: 1 (429long: Retry-After: 120)
  401        forward without the Authorization header (the registry's own
             401 and challenge come back)
  drop       GET: send the headers and half of the body, then close;
             other methods: read half of the request body, then close
  corrupt    forward, flip one byte of the response body
  badrange   forward without Range, answer 206 with the whole body labelled
             "bytes 0-..." (a registry that mislabels a partial answer)
  redirect   answer 307 to http://127.0.0.2:OTHER_PORT/..., a second
             listener that logs whether an Authorization header arrived
             and serves the request from upstream with the original one

Every request is logged to LOG as "METHOD PATH ACTION" (ACTION "-" when none,
then " range=bytes=N-" when the request had a Range header);
the second listener logs "OTHER auth=yes|no PATH".
"""
import http.client
import http.server
import json
import os
import re
import sys
import threading
import uuid

PORT, UPSTREAM, RULES, LOG, OTHER_PORT = sys.argv[1:6]
lock = threading.Lock()
counts = {}
stash = {}  # redirect id -> original Authorization header (or None)


def log(line):
    with lock, open(LOG, "a") as f:
        f.write(line + "\n")


def pick_action(method, path):
    try:
        with open(RULES) as f:
            rules = json.load(f)
    except (OSError, ValueError):
        rules = []
    for r in rules:
        if r.get("method", method) != method or not re.search(r.get("path", ""), path):
            continue
        with lock:
            n = counts.get(r["id"], 0)
            counts[r["id"]] = n + 1
        skip = r.get("skip", 0)
        if skip <= n < skip + r.get("times", 1):
            return r["action"]
    return None


def forward(method, path, headers, body, drop_auth=False, host=None):
    conn = http.client.HTTPConnection(UPSTREAM, timeout=60)
    h = {k: v for k, v in headers.items()
         if k.lower() not in ("connection", "keep-alive", "transfer-encoding", "expect")
         and not (drop_auth and k.lower() == "authorization")}
    if host:
        h["Host"] = host
    conn.request(method, path, body=body, headers=h)
    resp = conn.getresponse()
    data = resp.read() if method != "HEAD" else b""
    out = (resp.status, resp.getheaders(), data)
    conn.close()
    return out


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def read_body(self, limit=None):
        n = int(self.headers.get("Content-Length") or 0)
        if limit is not None:
            n = min(n, limit)
        return self.rfile.read(n) if n else b""

    def reply(self, status, headers, body, head=False):
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in ("connection", "keep-alive", "transfer-encoding", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def error(self, status, extra=()):
        body = json.dumps({"errors": [{"code": "INJECTED", "message": "fault %d" % status}]}).encode()
        self.reply(status, [("Content-Type", "application/json")] + list(extra), body,
                   head=(self.command == "HEAD"))

    def handle_any(self):
        method, path = self.command, self.path
        action = pick_action(method, path)
        rng = self.headers.get("Range")
        log("%s %s %s%s" % (method, path, action or "-", " range=" + rng if rng else ""))
        if action in ("503", "500"):
            self.read_body()
            return self.error(int(action))
        if action in ("429", "429long"):
            self.read_body()
            return self.error(429, [("Retry-After", "1" if action == "429" else "120")])
        if action == "drop":
            n = int(self.headers.get("Content-Length") or 0)
            if method == "GET":
                status, headers, data = forward(method, path, self.headers, None)
                self.send_response(status)
                for k, v in headers:
                    if k.lower() not in ("connection", "transfer-encoding"):
                        self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
            else:
                self.read_body(n // 2)
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if action == "redirect":
            self.read_body()
            key = uuid.uuid4().hex
            with lock:
                stash[key] = (self.headers.get("Authorization"), self.headers.get("Host"))
            loc = "http://127.0.0.2:%s/%s%s" % (OTHER_PORT, key, path)
            return self.reply(307, [("Location", loc)], b"")
        if action == "badrange":
            h = {k: v for k, v in self.headers.items() if k.lower() != "range"}
            status, headers, data = forward(method, path, h, None)
            headers = [(k, v) for k, v in headers if k.lower() != "content-range"]
            headers.append(("Content-Range", "bytes 0-%d/%d" % (len(data) - 1, len(data))))
            return self.reply(206, headers, data)
        body = self.read_body()
        status, headers, data = forward(method, path, self.headers, body, drop_auth=(action == "401"))
        if action == "corrupt" and data:
            data = bytearray(data)
            data[len(data) // 2] ^= 0xFF
            data = bytes(data)
        self.reply(status, headers, data, head=(method == "HEAD"))

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = handle_any


class Other(http.server.BaseHTTPRequestHandler):
    """Another host: records whether credentials leaked to it."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        key, _, path = self.path[1:].partition("/")
        log("OTHER auth=%s /%s" % ("yes" if self.headers.get("Authorization") else "no", path))
        with lock:
            auth, host = stash.get(key, (None, None))
        headers = {"Accept": self.headers.get("Accept", "*/*")}
        if auth:
            headers["Authorization"] = auth
        status, rh, data = forward("GET", "/" + path, headers, None, host=host)
        Proxy.reply(self, status, rh, data)


servers = [http.server.ThreadingHTTPServer(("127.0.0.1", int(PORT)), Proxy),
           http.server.ThreadingHTTPServer(("127.0.0.2", int(OTHER_PORT)), Other)]
for s in servers:
    s.daemon_threads = True
    threading.Thread(target=s.serve_forever, daemon=True).start()
threading.Event().wait()
