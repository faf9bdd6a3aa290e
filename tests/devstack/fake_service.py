"""A stand-in for a service process: answers GET /readyz on HTTP_PORT, like the real ones.

FAKE_MODE=crash exits at once with an error (to test start-up failures).
"""

from __future__ import annotations

import asyncio
import os
import sys


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
    await writer.drain()
    writer.close()


async def main() -> None:
    if os.environ.get("FAKE_MODE") == "crash":
        print("fake service: boom (DATABASE_URL missing a table?)", flush=True)
        sys.exit(3)
    port = int(os.environ["HTTP_PORT"])
    server = await asyncio.start_server(_handle, "127.0.0.1", port)
    print(f"fake {os.environ.get('SERVICE_NAME')} listening on {port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
