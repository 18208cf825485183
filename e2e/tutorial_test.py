"""Python's websockets (Debian's python3-websockets, run with
/usr/bin/python3) through wsgate running the tutorial's configuration
("How to Proxy WebSocket Connections with Nginx": location /ws/ to a
WebSocket backend, location / to an app): the handshake reaches the
backend with the tutorial's headers, messages echo, and Close codes pass
both ways.

wsgate is $WSGATE_BIN when set (scripts/test.sh builds it), else built
here with go."""

import asyncio
import http.server
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request

import websockets

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CONF = """events {{}}
http {{
access_log off;
server {{
listen 127.0.0.1:{port};
server_name localhost;
location /ws/ {{
proxy_pass http://127.0.0.1:{backend};
proxy_http_version 1.1;
proxy_set_header Upgrade $http_upgrade;
proxy_set_header Connection "upgrade";
proxy_set_header Host $host;
proxy_read_timeout 86400;
}}
location / {{
proxy_pass http://127.0.0.1:{app};
}}
}}
}}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class App(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"app saw GET {self.path}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class TutorialThroughWsgate(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="wsgate-e2e-python-")
        cls.bin = os.environ.get("WSGATE_BIN")
        if not cls.bin:
            cls.bin = os.path.join(cls.dir, "wsgate")
            subprocess.run(["go", "build", "-o", cls.bin, "./cmd/wsgate"], cwd=ROOT, check=True)
        cls.app = http.server.ThreadingHTTPServer(("127.0.0.1", 0), App)
        threading.Thread(target=cls.app.serve_forever, daemon=True).start()
        cls.backend_port = free_port()
        cls.port = free_port()
        conf = os.path.join(cls.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(CONF.format(port=cls.port, backend=cls.backend_port, app=cls.app.server_address[1]))
        cls.stderr = open(os.path.join(cls.dir, "stderr"), "w+")
        cls.gate = subprocess.Popen([cls.bin, "-c", conf], stdout=subprocess.DEVNULL, stderr=cls.stderr)
        deadline = time.monotonic() + 10
        while True:
            if cls.gate.poll() is not None:
                cls.stderr.seek(0)
                raise RuntimeError(f"wsgate exited with {cls.gate.returncode}: {cls.stderr.read()}")
            try:
                socket.create_connection(("127.0.0.1", cls.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @classmethod
    def tearDownClass(cls):
        cls.gate.terminate()
        cls.gate.wait(10)
        cls.app.shutdown()
        cls.stderr.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def run_with_backend(self, client):
        """Runs the backend on backend_port for the length of client()."""
        seen, closes = [], []

        async def handler(ws, path):
            seen.append((path, ws.request_headers))
            try:
                async for msg in ws:
                    if msg == "close me 4002":
                        await ws.close(4002, "backend says bye")
                        break
                    await ws.send(msg)
            except websockets.ConnectionClosed:
                pass  # a Close other than 1000 ends the loop with this
            finally:
                closes.append((ws.close_code, ws.close_reason))

        async def run():
            async with websockets.serve(handler, "127.0.0.1", self.backend_port):
                return await asyncio.wait_for(client(f"ws://127.0.0.1:{self.port}"), 20)

        return asyncio.run(run()), seen, closes

    def test_app(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/hello?x=1", timeout=10) as r:
            self.assertEqual(r.status, 200)
            self.assertTrue(r.headers["Server"].startswith("wsgate"), r.headers["Server"])
            self.assertEqual(r.read(), b"app saw GET /hello?x=1\n")

    def test_echo_and_headers(self):
        async def client(base):
            async with websockets.connect(base + "/ws/echo?python") as ws:
                got = []
                for msg in ["text through wsgate", bytes(range(256)) * 300]:
                    await ws.send(msg)
                    got.append(await ws.recv())
                return got

        got, seen, _ = self.run_with_backend(client)
        self.assertEqual(got, ["text through wsgate", bytes(range(256)) * 300])
        path, headers = seen[0]
        self.assertEqual(path, "/ws/echo?python")
        self.assertEqual(headers.get("Upgrade"), "websocket")
        self.assertEqual(headers.get("Connection"), "upgrade")
        self.assertEqual(headers.get("Host"), "127.0.0.1")  # $host: without the port

    def test_close_codes(self):
        async def client(base):
            async with websockets.connect(base + "/ws/client-closes") as a:
                await a.close(4001, "client says bye")
                first = (a.close_code, a.close_reason)
            async with websockets.connect(base + "/ws/backend-closes") as b:
                await b.send("close me 4002")
                try:
                    await b.recv()
                except websockets.ConnectionClosed:
                    pass
                await b.wait_closed()
                second = (b.close_code, b.close_reason)
            return first, second

        (first, second), _, closes = self.run_with_backend(client)
        self.assertEqual(first, (4001, "client says bye"))
        self.assertEqual(second, (4002, "backend says bye"))
        self.assertIn((4001, "client says bye"), closes)


if __name__ == "__main__":
    unittest.main()
