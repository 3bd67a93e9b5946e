"""An https server is verified: against the system CAs by default, ``--ca-file`` otherwise."""

from __future__ import annotations

import http.server
import json
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from drago.agent.client import HttpClient
from drago.errors import ServerUnavailable

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


class WhoAmI(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"name": "n", "email": None, "role": "node", "node": "fra-1"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def https_url(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), WhoAmI)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", cert
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_unknown_ca_is_refused(https_url: tuple[str, Path]) -> None:
    url, _ = https_url
    client = HttpClient(url, "t")
    with pytest.raises(ServerUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
        client.whoami()
    client.close()


def test_ca_file_is_trusted(https_url: tuple[str, Path]) -> None:
    url, cert = https_url
    client = HttpClient(url, "t", ca_file=str(cert))
    assert client.whoami() == "fra-1"
    client.close()
