#!/usr/bin/env python3
"""A fake REST revocation service for tests/integration/test-http.sh.

Listens on 127.0.0.1 only (an ephemeral port, written to --port-file once listening), HTTP or
with --cert/--key HTTPS, and answers by the first path segment: /good/..., /revoked/..., etc.
(see CASES). Every request is appended to --log as "METHOD PATH", its headers and body.
Exits by itself after --lifetime seconds, so a test that dies cannot leave it behind.
"""
import argparse
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GOOD = {"status": "good", "this_update": "2024-05-01T00:00:00Z",
        "next_update": "2030-01-01T00:00:00Z"}
REVOKED = {"status": "revoked", "revoked_at": "2024-03-04T05:06:07+09:00",
           "reason": "keyCompromise", "this_update": "2024-05-01T00:00:00Z",
           "next_update": "2030-01-01T00:00:00Z", "successor_serial": "0A1B",
           "comment": {"ignored": [1, 2, 3]}}

# case: (HTTP status, body bytes, extra: "slow" | "nolength" | a Location)
CASES = {
    "good": (200, json.dumps(GOOD), None),
    "echo": (200, json.dumps(GOOD), None),
    "revoked": (200, json.dumps(REVOKED), None),
    "revoked-int": (200, '{"status":"revoked","reason":4,"revoked_at":null}', None),
    "unknown": (200, '{"status":"unknown","this_update":"2024-05-01T09:00:00.123+09:00"}', None),
    "nocache": (200, '{"status":"good"}', None),
    "stale": (200, '{"status":"good","next_update":"2020-01-01T00:00:00Z"}', None),
    "garbage": (200, "this is not JSON\n", None),
    "trailing": (200, '{"status":"good"} {"status":"revoked"}', None),
    "types": (200, '{"status":"good","next_update":1893456000}', None),
    "badstatus": (200, '{"status":"GOOD"}', None),
    "nostatus": (200, '{"state":"good"}', None),
    "array": (200, '[{"status":"good"}]', None),
    "dup": (200, '{"status":"revoked","status":"good"}', None),
    "single": (200, "{'status':'good'}", None),
    "badtime": (200, '{"status":"good","next_update":"2030-02-30T00:00:00Z"}', None),
    "reason7": (200, '{"status":"revoked","reason":7}', None),
    "badreason": (200, '{"status":"revoked","reason":"stolen"}', None),
    "backwards": (200, '{"status":"good","this_update":"2030-01-01T00:00:00Z",'
                       '"next_update":"2029-01-01T00:00:00Z"}', None),
    "big": (200, json.dumps({"status": "good", "pad": "x" * 20000}), None),
    "bigstream": (200, json.dumps({"status": "good", "pad": "x" * 20000}), "nolength"),
    "http500": (500, json.dumps(GOOD), None),
    "http404": (404, '{"status":"unknown"}', None),
    "redirect": (302, "", "/good/"),
    "slow": (200, json.dumps(GOOD), "slow"),
}


class Handler(BaseHTTPRequestHandler):
    server_version = "fake-revocation/1"

    def log_message(self, fmt, *args):  # quiet: requests go to --log
        pass

    def answer(self, body_in):
        with self.server.log_lock, open(self.server.log_path, "a") as log:
            log.write("%s %s\n%s\n%s\n\n" % (self.command, self.path, str(self.headers).strip(),
                                             body_in.decode("utf-8", "replace")))
        name = self.path.split("/")[1] if self.path.count("/") >= 1 else ""
        code, body, extra = CASES.get(name, (404, "no such case\n", None))
        body = body.encode()
        if extra == "slow":
            time.sleep(5)
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            if extra not in ("nolength",):
                self.send_header("Content-Length", str(len(body)))
            if extra is not None and extra.startswith("/"):
                self.send_header("Location", extra)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up (slow, oversized): expected

    def do_GET(self):
        self.answer(b"")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.answer(self.rfile.read(min(n, 4096)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--lifetime", type=float, default=300)
    args = ap.parse_args()

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.log_path = args.log
    srv.log_lock = threading.Lock()
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    timer = threading.Timer(args.lifetime, os._exit, (3,))
    timer.daemon = True
    timer.start()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
