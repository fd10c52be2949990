"""Which ICE servers the live view's WebRTC connection uses: none unless the operator says so.

On one computer or a classroom LAN the browser and the server reach each other directly, so no
STUN/TURN server is needed — and none must be asked: without internet, a default public STUN
server would only delay the connection. ``SE_VIZ_ICE_SERVERS`` names servers for networks that
need them: comma-separated URLs (``stun:stun.example.org:3478``) or a JSON list of RTCIceServer
objects (``[{"urls": ["turn:turn.example.org"], "username": "u", "credential": "p"}]``).
"""

from __future__ import annotations

import json
import os
from typing import Mapping, Optional

__all__ = ["ICE_ENV", "ice_servers"]

ICE_ENV = "SE_VIZ_ICE_SERVERS"


def ice_servers(env: Optional[Mapping[str, str]] = None) -> list[dict]:
    """The ICE servers of ``env`` (default: ``os.environ``) as RTCIceServer dicts; ``[]`` if unset.

    Raises ``ValueError`` with a sentence naming the variable when its value cannot be read.
    """
    value = (os.environ if env is None else env).get(ICE_ENV, "").strip()
    if not value:
        return []
    if value.startswith("["):
        try:
            servers = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{ICE_ENV} is not valid JSON ({exc.msg}); give a list of servers.") from exc
        if not isinstance(servers, list) or not all(isinstance(s, dict) and "urls" in s for s in servers):
            raise ValueError(f'{ICE_ENV} must be a JSON list of objects with "urls".')
        return servers
    urls = [u.strip() for u in value.split(",") if u.strip()]
    bad = [u for u in urls if not u.startswith(("stun:", "turn:", "turns:"))]
    if bad:
        raise ValueError(f"{ICE_ENV}: {bad[0]!r} is not a stun:, turn: or turns: URL.")
    return [{"urls": urls}]
