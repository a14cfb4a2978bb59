"""The app's ASGI application (``config.asgi``, same middleware, same consumers) plus one bench-only
endpoint, ``GET /__bench__/queries``, answering how many SQL statements this process has run.

It exists so the websocket fan-out benchmark can prove O(1) database queries per change on the real
server process; it is only ever served by the benchmark harness (``bench.servers``), never by
``config.asgi``.
"""

import json
import threading

from django.db.backends.signals import connection_created

from config.asgi import application as app_application

_lock = threading.Lock()
_queries = {"count": 0}


def _count(execute, sql, params, many, context):
    with _lock:
        _queries["count"] += 1
    return execute(sql, params, many, context)


def _install(sender, connection, **kwargs):
    if _count not in connection.execute_wrappers:
        connection.execute_wrappers.append(_count)


connection_created.connect(_install)


async def application(scope, receive, send):
    if scope["type"] == "http" and scope["path"] == "/__bench__/queries":
        body = json.dumps({"queries": _queries["count"]}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
        return None
    return await app_application(scope, receive, send)
