"""Real-client check of wss:// with Python's websockets (Debian's
python3-websockets, run with /usr/bin/python3) through wsgate with client
certificates. Usage: client_wss.py URL CA CERT KEY, where URL is
wss://localhost:PORT/ws/echo on the e2e control backend (echo) and the
server also answers GET /who with its $ssl_* variables. Prints one line
per check and "ALL OK" at the end; exits 1 on failure."""

import asyncio
import ssl
import sys
from urllib.parse import urlsplit

import websockets


def check(ok, what):
    if not ok:
        print("FAIL " + what)
        sys.exit(1)
    print("ok " + what)


async def main(url, ca, cert, key):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.load_cert_chain(cert, key)
    async with websockets.connect(url, ssl=ctx, compression=None) as ws:
        for msg in ("hello over wss", "x" * 70000):
            await ws.send(msg)
            got = await ws.recv()
            check(got == msg, "echo of %d bytes over wss" % len(msg))
    u = urlsplit(url)
    reader, writer = await asyncio.open_connection(u.hostname, u.port, ssl=ctx)
    writer.write(b"GET /who HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    data = (await reader.read()).decode()
    writer.close()
    body = data.split("\r\n\r\n", 1)[1]
    print("WHO " + body)
    print("ALL OK")


asyncio.run(main(*sys.argv[1:5]))
