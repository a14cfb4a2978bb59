"""The minimal websocket broadcast server (the fan-out baseline): plain asyncio, no framework, no channel
layer, no database. Every connection is a watcher; a text message ``broadcast <payload>`` from any
connection is written to every other connection.

``python -m bench.wsminimal <port>``
"""

from __future__ import annotations

import asyncio
import sys

from bench.loadgen import ws_accept_key, ws_frame, ws_read_frame

watchers: set[asyncio.StreamWriter] = set()


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()
        return
    headers = {}
    for line in head.split("\r\n")[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if "sec-websocket-key" not in headers:
        body = b"ok"
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n" + body)
        await writer.drain()
        writer.close()
        return
    accept = ws_accept_key(headers["sec-websocket-key"])
    writer.write(
        (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
        ).encode()
    )
    watchers.add(writer)
    try:
        while True:
            opcode, payload = await ws_read_frame(reader)
            if opcode == 8:
                break
            if opcode == 9:
                writer.write(ws_frame(payload, opcode=10, mask=False))
            elif opcode == 1 and payload.startswith(b"broadcast "):
                frame = ws_frame(payload[len(b"broadcast ") :], mask=False)
                for other in list(watchers):
                    if other is not writer:
                        other.write(frame)
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        watchers.discard(writer)
        writer.close()


async def serve(port: int) -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
