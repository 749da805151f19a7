#!/usr/bin/env python3
"""A small Docker token server for the registry tests (standard library only;
`openssl dgst` signs the JWT).

  registry-token-server.py PORT KEY.pem CERT.pem USER PASSWORD LOG

GET /token?service=S&scope=repository:NAME:ACTIONS... with basic auth USER:PASSWORD
(or POST /token with the OAuth2 form grant_type=refresh_token,
refresh_token="refresh-" + PASSWORD, service, scope separated by spaces)
answers {"token": JWT, "access_token": JWT, "expires_in": 300}, granting every
requested action; requests without credentials get a pull-only token (as
Docker Hub does), wrong credentials a 401.  The JWT is RS256 with the
certificate in x5c, as distribution's `auth: token` (rootcertbundle = CERT.pem)
verifies it.  Each request is appended to LOG as "token SCOPES AUTH?".
"""
import base64
import http.server
import json
import os
import subprocess
import sys
import time
import urllib.parse

PORT, KEY, CERT, USER, PASSWORD, LOG = sys.argv[1:7]
ISSUER = "ocb-test-issuer"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def cert_der():
    pem = open(CERT).read()
    body = pem.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
    return base64.b64decode("".join(body.split()))


def sign(data):
    out = subprocess.run(["openssl", "dgst", "-sha256", "-sign", KEY], input=data,
                         capture_output=True, check=True)
    return out.stdout


def make_token(service, scopes, subject):
    header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(cert_der()).decode()]}
    access = []
    for scope in scopes:
        parts = scope.split(":")
        if len(parts) < 3:
            continue
        access.append({"type": parts[0], "name": ":".join(parts[1:-1]),
                       "actions": parts[-1].split(",")})
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": subject, "aud": service, "exp": now + 300, "nbf": now - 10,
              "iat": now, "jti": b64url(os.urandom(12)), "access": access}
    signing_input = (b64url(json.dumps(header).encode()) + "." +
                     b64url(json.dumps(claims).encode())).encode()
    return signing_input.decode() + "." + b64url(sign(signing_input))


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, ok, service, scopes, pull_only=False):
        if not ok:
            body = json.dumps({"errors": [{"code": "UNAUTHORIZED",
                                           "message": "bad credentials"}]}).encode()
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if pull_only:
            scopes = [":".join(s.split(":")[:-1] + ["pull"]) for s in scopes
                      if "pull" in s.split(":")[-1].split(",")]
        token = make_token(service, scopes, "" if pull_only else USER)
        body = json.dumps({"token": token, "access_token": token, "expires_in": 300}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(n).decode(), keep_blank_values=True)
        ok = (self.path == "/token" and form.get("grant_type") == ["refresh_token"]
              and form.get("refresh_token") == ["refresh-" + PASSWORD])
        scopes = [s for s in form.get("scope", [""])[0].split(" ") if s]
        with open(LOG, "a") as f:
            f.write("oauth %s %s\n" % (",".join(scopes) or "-", "auth" if ok else "refused"))
        self.answer(ok, form.get("service", [""])[0], scopes)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(url.query)
        auth = self.headers.get("Authorization", "")
        ok = False
        if auth.startswith("Basic "):
            try:
                user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
                ok = user == USER and pw == PASSWORD
            except Exception:
                ok = False
        scopes = q.get("scope", [])
        with open(LOG, "a") as f:
            f.write("token %s %s\n" % (",".join(scopes) or "-", "auth" if ok else "anonymous"))
        anonymous = not auth
        self.answer(url.path == "/token" and (ok or anonymous), q.get("service", [""])[0], scopes,
                    pull_only=anonymous)


http.server.ThreadingHTTPServer(("127.0.0.1", int(PORT)), Handler).serve_forever()
