"""Python's websockets as a SERVER for a WebSocket client under test.

Usage: python3 py_server.py [deflate]   (prints "PORT <n>" once listening on 127.0.0.1)
Same behaviour as node_server.js; with "deflate", permessage-deflate is accepted.
"""
import asyncio

import sys

import websockets

DEFLATE = len(sys.argv) > 1 and sys.argv[1] == "deflate"


async def handler(ws, *_):
    print("EXTENSIONS %r" % [e.name for e in ws.extensions], flush=True)
    try:
        async for msg in ws:
            if isinstance(msg, str) and msg.startswith("cmd:close:"):
                _, _, code, reason = msg.split(":", 3)
                await ws.close(int(code), reason)
            elif isinstance(msg, str) and msg.startswith("cmd:ping:"):
                p = msg[len("cmd:ping:"):]
                waiter = await ws.ping(p.encode())
                await waiter
                await ws.send("pinged:" + p)
            else:
                await ws.send(msg)
    except websockets.ConnectionClosed:
        pass
    rcvd = ws.close_rcvd if hasattr(ws, "close_rcvd") else None
    if rcvd is not None:
        print("CLOSED %d %s" % (rcvd.code, rcvd.reason), flush=True)


async def main():
    async with websockets.serve(handler, "127.0.0.1", 0, compression="deflate" if DEFLATE else None, max_size=None, ping_interval=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print("PORT %d" % port, flush=True)
        await asyncio.Future()


asyncio.run(main())
