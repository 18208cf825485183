"""Real-client check with Python's websockets (Debian's python3-websockets,
run with /usr/bin/python3) through wsgate. Usage: client.py URL where URL
reaches the e2e control backend (echo; "close:CODE:REASON" makes it close).
Prints one line per check and "ALL OK" at the end; exits 1 on failure."""

import asyncio
import sys

import websockets

SIZES = [0, 125, 126, 65535, 65536, 16 << 20]


def fill(n, seed):
    return bytes(97 + (i + seed) % 26 for i in range(n)) if n < 70000 else (
        bytes(97 + (i + seed) % 26 for i in range(26)) * (n // 26 + 1))[:n]


def check(ok, what):
    if not ok:
        print("FAIL " + what)
        sys.exit(1)


async def main(url):
    async with websockets.connect(url, max_size=None, compression=None) as ws:
        for binary in (False, True):
            for n in SIZES:
                p = fill(n, n % 26)
                msg = p if binary else p.decode()
                await ws.send(msg)
                got = await asyncio.wait_for(ws.recv(), 20)
                check(got == msg, "echo %s %d B: got %d" % ("binary" if binary else "text", n, len(got)))
        print("ok sizes")

        parts = [fill(1000, 1), fill(2000, 2), fill(3000, 3)]
        await ws.send(parts)  # an iterable is sent as one fragmented message
        got = await asyncio.wait_for(ws.recv(), 10)
        check(got == b"".join(parts), "fragmented message")
        print("ok fragmented")

        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, 10)
        print("ok ping/pong")

        await ws.close(4000, "client bye")
        check(ws.close_code == 4000 and ws.close_reason == "client bye",
              "client close echoed as %s %r" % (ws.close_code, ws.close_reason))
        print("ok client close 4000")

    async with websockets.connect(url) as ws:
        await ws.send("close:4001:server bye")
        try:
            await asyncio.wait_for(ws.recv(), 10)
            check(False, "no close from server")
        except websockets.ConnectionClosed:
            pass
        check(ws.close_code == 4001 and ws.close_reason == "server bye",
              "server close seen as %s %r" % (ws.close_code, ws.close_reason))
        print("ok server close 4001")

    async with websockets.connect(url, subprotocols=["superchat", "chat"]) as ws:
        check(ws.subprotocol == "chat", "subprotocol %r" % ws.subprotocol)
        print("ok subprotocol")

    async with websockets.connect(url + "?deflate", compression="deflate") as ws:
        ext = ws.response_headers.get("Sec-WebSocket-Extensions", "")
        check("permessage-deflate" in ext, "extensions %r" % ext)
        p = "compressible " * 5000
        await ws.send(p)
        got = await asyncio.wait_for(ws.recv(), 10)
        check(got == p, "deflate echo")
        print("ok permessage-deflate")

    print("ALL OK")


asyncio.run(asyncio.wait_for(main(sys.argv[1]), 50))
