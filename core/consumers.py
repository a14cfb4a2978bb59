"""A minimal authenticated-aware socket: answers ``ping`` with ``pong``. Used by health checks and the
front end to verify the websocket route; it never touches the ORM."""

from core.live import LiveConsumer, scope_user


class PingConsumer(LiveConsumer):
    async def connect(self):
        await self.accept()
        user = await scope_user(self.scope)
        await self.send_json({"type": "hello", "authenticated": bool(user and user.is_authenticated)})
