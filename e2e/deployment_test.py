"""The nginx configuration of Python websockets' deployment guide
(testdata/realconfigs/corpus/012-python-websockets.conf: an upstream of
four servers on Unix sockets, balanced with least_conn) served by wsgate
as written, its port aside, with four websockets servers on those
sockets and websockets clients (Debian's python3-websockets, run with
/usr/bin/python3): every socket gets its share of the connections,
messages echo through each, and Close codes pass.

wsgate is $WSGATE_BIN when set (scripts/test.sh builds it), else built
here with go."""

import asyncio
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

import websockets

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "testdata", "realconfigs", "corpus", "012-python-websockets.conf")
SOCKETS = [f"websockets-test_0{i}" for i in range(4)]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DeploymentThroughWsgate(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="wsgate-e2e-deploy-")
        cls.bin = os.environ.get("WSGATE_BIN")
        if not cls.bin:
            cls.bin = os.path.join(cls.dir, "wsgate")
            subprocess.run(["go", "build", "-o", cls.bin, "./cmd/wsgate"], cwd=ROOT, check=True)
        with open(CORPUS) as f:
            conf = f.read()
        # The guide listens on localhost:8080; any free port will do here.
        cls.port = free_port()
        conf, n = re.subn(r"listen localhost:8080;", f"listen localhost:{cls.port};", conf)
        assert n == 1, "the corpus file no longer listens on localhost:8080"
        path = os.path.join(cls.dir, "nginx.conf")
        with open(path, "w") as f:
            f.write(conf)
        cls.stderr = open(os.path.join(cls.dir, "stderr"), "w+")
        # The socket paths are relative, as in the guide: wsgate runs in
        # the directory that holds them, as nginx does there.
        cls.gate = subprocess.Popen([cls.bin, "-c", path, "-p", cls.dir], cwd=cls.dir,
                                    stdout=subprocess.DEVNULL, stderr=cls.stderr)
        deadline = time.monotonic() + 10
        while True:
            if cls.gate.poll() is not None:
                cls.stderr.seek(0)
                raise RuntimeError(f"wsgate exited with {cls.gate.returncode}: {cls.stderr.read()}")
            try:
                socket.create_connection(("localhost", cls.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @classmethod
    def tearDownClass(cls):
        cls.gate.terminate()
        cls.gate.wait(10)
        cls.stderr.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def with_backends(self, client):
        """Runs the guide's app (an echo server) on each of the four
        sockets for the length of client(), each answering with its
        name; returns client's result and the handshakes each saw."""
        seen = {name: [] for name in SOCKETS}

        def handler_for(name):
            async def handler(ws, path=None):
                seen[name].append(ws.request_headers)
                try:
                    async for msg in ws:
                        if msg == "close 4003":
                            await ws.close(4003, f"{name} closes")
                            break
                        await ws.send(f"{name}: {msg}")
                except websockets.ConnectionClosed:
                    pass
            return handler

        async def run():
            servers = [await websockets.unix_serve(handler_for(n), os.path.join(self.dir, n + ".sock"))
                       for n in SOCKETS]
            try:
                return await asyncio.wait_for(client(f"ws://localhost:{self.port}/"), 30)
            finally:
                for s in servers:
                    s.close()
                    await s.wait_closed()
                for n in SOCKETS:
                    try:
                        os.unlink(os.path.join(self.dir, n + ".sock"))
                    except FileNotFoundError:
                        pass

        return asyncio.run(run()), seen

    def test_least_conn_over_four_sockets(self):
        async def client(url):
            conns = [await websockets.connect(url) for _ in range(8)]
            try:
                got = []
                for i, ws in enumerate(conns):
                    await ws.send(f"m{i}")
                    got.append(await ws.recv())
                return got
            finally:
                for ws in conns:
                    await ws.close()

        got, seen = self.with_backends(client)
        # Eight tunnels held open at once: least_conn gives each socket two.
        by_socket = {}
        for i, answer in enumerate(got):
            name, _, msg = answer.partition(": ")
            self.assertEqual(msg, f"m{i}")
            by_socket[name] = by_socket.get(name, 0) + 1
        self.assertEqual(by_socket, {name: 2 for name in SOCKETS})
        headers = seen[SOCKETS[0]][0]
        self.assertEqual(headers.get("Host"), "websocket")  # $proxy_host: the upstream's name
        self.assertEqual(headers.get("Upgrade"), "websocket")
        self.assertEqual(headers.get("Connection"), "Upgrade")  # $http_connection, as the client sent it

    def test_messages_and_close(self):
        async def client(url):
            async with websockets.connect(url) as ws:
                await ws.send("0123456789" * 20000)
                big = await ws.recv()
                await ws.send("close 4003")
                try:
                    await ws.recv()
                except websockets.ConnectionClosed:
                    pass
                await ws.wait_closed()
                return big, ws.close_code, ws.close_reason

        (big, code, reason), _ = self.with_backends(client)
        name, _, payload = big.partition(": ")
        self.assertIn(name, SOCKETS)
        self.assertEqual(payload, "0123456789" * 20000)
        self.assertEqual((code, reason), (4003, f"{name} closes"))


if __name__ == "__main__":
    unittest.main()
