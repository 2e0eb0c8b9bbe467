"""deploy/nginx-pickup.conf in front of two app nodes: nginx itself, on loopback.

The site is the deployed file with only what ties it to a machine changed: plain HTTP on a
free port instead of TLS on 443, and two loopback stand-ins for the nodes in the upstream.
A node that is down (connection refused) or answers 503 is left out: GETs go to the other
node. A POST that a node received and answered 503 is not sent again to the other node (it
may have booked); a POST to a node that refused the connection never reached it, so nginx
passes it on.
"""

from __future__ import annotations

import http.client
import re
import shutil
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from support import require

from bench.support import free_port

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "deploy" / "nginx-pickup.conf"


class Node:
    """An app node's stand-in: answers every request with its name, or with ``status``."""

    def __init__(self, name: str) -> None:
        self.name, self.status, self.seen = name, 200, []
        node = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                node.seen.append((self.command, self.path))
                body = node.name.encode()
                self.send_response(node.status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = answer  # noqa: N815 (http.server's names)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def site_for(nodes: list[Node], port: int, redirect_port: int) -> str:
    """The deployed site with plain HTTP on ``port`` and ``nodes`` as the upstream."""
    site = SITE.read_text()
    servers = "".join(
        f"    server 127.0.0.1:{n.port} max_fails=3 fail_timeout=10s;\n" for n in nodes
    )
    site, count = re.subn(r"    server 127\.0\.0\.1:8000 [^\n]*\n", servers, site)
    assert count == 1
    site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{port};")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{redirect_port};")
    return re.sub(r"\n    ssl_certificate[^\n]*", "", site)


@pytest.fixture
def proxy(tmp_path):
    """(nginx's port, the two nodes) with the deployed site in front of them."""
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    require(nginx is not None, "nginx (apt-get install nginx-light)")
    nodes = [Node("one"), Node("two")]
    port = free_port()
    (tmp_path / "site.conf").write_text(site_for(nodes, port, free_port()))
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{ access_log off; client_body_temp_path {tmp_path}; "
        f"proxy_temp_path {tmp_path}; include {tmp_path}/site.conf; }}\n"
    )
    conf = ["-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)]
    checked = subprocess.run([nginx, "-t", *conf], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen([nginx, *conf, "-g", "daemon off;"], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while request(port, "GET", "/healthz")[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    for node in nodes:
        node.seen.clear()
    yield port, nodes
    process.terminate()
    process.wait(timeout=10)
    for node in nodes:
        if node.server.socket.fileno() != -1:
            node.stop()


def request(port: int, method: str, path: str) -> tuple[int, str]:
    """(status, body); status 0 when nginx does not answer."""
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request(method, path, body=b"x" if method == "POST" else None)
        response = connection.getresponse()
        answer = (response.status, response.read().decode())
        connection.close()
        return answer
    except OSError:
        return 0, ""


def test_both_nodes_serve(proxy):
    port, nodes = proxy
    answers = {request(port, "GET", "/healthz") for _ in range(6)}
    assert answers == {(200, "one"), (200, "two")}


def test_a_node_that_is_down_is_left_out(proxy):
    port, (one, two) = proxy
    one.stop()
    # Every request is answered, by the other node; the refused POST never reached a node.
    assert {request(port, "GET", "/") for _ in range(6)} == {(200, "two")}
    assert {request(port, "POST", "/sms/inbound") for _ in range(4)} == {(200, "two")}


def test_a_503_is_retried_for_a_get_but_never_for_a_post(proxy):
    port, (one, two) = proxy
    one.status = 503
    posts = [request(port, "POST", "/sms/inbound") for _ in range(2)]
    # Node one received its POST and answered 503: nginx passes that on to the client (who
    # retries: Twilio with the same MessageSid), it does not send the POST to node two too.
    assert sorted(posts) == [(200, "two"), (503, "one")]
    assert one.seen == [("POST", "/sms/inbound")] and two.seen == [("POST", "/sms/inbound")]
    # A GET that node one answers 503 is answered by node two instead.
    assert {request(port, "GET", "/") for _ in range(6)} == {(200, "two")}
