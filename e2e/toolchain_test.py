"""Proves Python's websockets (Debian's python3-websockets, run with
/usr/bin/python3) completes a WebSocket exchange on 127.0.0.1."""

import asyncio
import unittest

import websockets


class ToolchainTest(unittest.TestCase):
    def test_echo(self):
        async def run():
            async def echo(ws, *_):
                async for msg in ws:
                    await ws.send(msg)

            async with websockets.serve(echo, "127.0.0.1", 0) as server:
                port = server.sockets[0].getsockname()[1]
                async with websockets.connect(f"ws://127.0.0.1:{port}/echo") as ws:
                    await ws.send("hello")
                    return await asyncio.wait_for(ws.recv(), 10)

        self.assertEqual(asyncio.run(run()), "hello")


if __name__ == "__main__":
    unittest.main()
