"""Python's websockets as a CLIENT against a WebSocket echo server under test.

Usage: python3 py_client.py ws://127.0.0.1:PORT/path [deflate]
Same scenarios and output as node_client.js; with "deflate",
permessage-deflate (websockets' default) is offered and must be negotiated.
"""
import asyncio
import os
import sys

import websockets

URL = sys.argv[1]
DEFLATE = len(sys.argv) > 2 and sys.argv[2] == "deflate"
failed = 0


def ok(name):
    print("PASS " + name, flush=True)


def bad(name, why):
    global failed
    failed += 1
    print("FAIL %s: %s" % (name, why), flush=True)


def payload(n, text):
    if text:
        return "".join(chr(97 + i % 26) for i in range(n))
    return bytes((i * 7) & 0xFF for i in range(n))


async def connect():
    return await websockets.connect(URL, compression="deflate" if DEFLATE else None, max_size=None, ping_interval=None)


async def main():
    ws = await connect()
    if DEFLATE:
        names = [e.name for e in ws.extensions]
        if "permessage-deflate" not in names:
            bad("deflate negotiated", "extensions %r" % names)
        else:
            ok("deflate negotiated")
    rnd = os.urandom(100000)
    await ws.send(rnd)
    if await asyncio.wait_for(ws.recv(), 30) != rnd:
        bad("echo binary 100000 random bytes", "payload differs")
    else:
        ok("echo binary 100000 random bytes")
    for n in (0, 125, 126, 65535, 65536, 16 << 20):
        for text in (True, False):
            name = "echo %s %d bytes" % ("text" if text else "binary", n)
            p = payload(n, text)
            await ws.send(p)
            got = await asyncio.wait_for(ws.recv(), 30)
            if type(got) is not type(p):
                bad(name, "type %s" % type(got).__name__)
            elif got != p:
                bad(name, "payload differs (%d back)" % len(got))
            else:
                ok(name)

    for text in (True, False):
        name = "fragmented %s message" % ("text" if text else "binary")
        parts = ["frag1", "frag2", "frag3"] if text else [b"frag1", b"frag2", b"frag3"]
        await ws.send(parts)  # an iterable is sent as one fragmented message
        got = await asyncio.wait_for(ws.recv(), 10)
        want = "frag1frag2frag3" if text else b"frag1frag2frag3"
        if got != want:
            bad(name, "got %r" % (got,))
        else:
            ok(name)

    waiter = await ws.ping(b"client-ping")
    try:
        await asyncio.wait_for(waiter, 10)
        ok("client ping")
    except Exception as e:  # noqa: BLE001
        bad("client ping", repr(e))

    await ws.send("cmd:ping:server-ping")
    got = await asyncio.wait_for(ws.recv(), 10)
    if got != "pinged:server-ping":
        bad("server ping", "got %r" % (got,))
    else:
        ok("server ping")

    await ws.close(4001, "client-bye")
    code = ws.close_code if hasattr(ws, "close_code") else None
    if code != 4001:
        bad("client close 4001", "close code %r" % (code,))
    else:
        ok("client close 4001")

    ws2 = await connect()
    await ws2.send("cmd:close:4002:server-bye")
    try:
        await asyncio.wait_for(ws2.recv(), 10)
        bad("server close 4002", "got a message instead of a close")
    except websockets.ConnectionClosed as e:
        rcvd = e.rcvd
        if rcvd is None or rcvd.code != 4002 or rcvd.reason != "server-bye":
            bad("server close 4002", "close %r" % (rcvd,))
        else:
            ok("server close 4002")


try:
    asyncio.run(main())
except Exception as e:  # noqa: BLE001
    bad("run", repr(e))
sys.exit(1 if failed else 0)
