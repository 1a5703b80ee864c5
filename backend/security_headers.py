"""Security headers on every response: what a browser may do with what the hub sends.

The API answers JSON only, so its pages may not be framed, sniffed into another type or
cached by a shared cache; `/feed` (the wall screen, one self-contained page with inline
script and style) gets a policy that allows exactly that and its websocket. In production
HSTS tells browsers to come back over HTTPS only (the proxy in front terminates TLS).
"""

from backend.asgi import ASGIApp, Message, Receive, Scope, Send

COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
API_POLICY = b"default-src 'none'; frame-ancestors 'none'"
PAGE_POLICY = (
    b"default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    b"connect-src 'self' ws: wss:; img-src 'self' data:; frame-ancestors 'none'"
)
HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")


class SecurityHeaders:
    def __init__(
        self, app: ASGIApp, *, production: bool, pages: frozenset[str] = frozenset({"/feed"})
    ) -> None:
        self.app = app
        self.pages = pages
        self.extra = [HSTS] if production else []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # GraphiQL (development only) loads its scripts from a CDN: no policy for it.
        is_ide = scope["method"] == "GET" and b"text/html" in dict(scope["headers"]).get(
            b"accept", b""
        )
        policy = PAGE_POLICY if scope["path"] in self.pages else API_POLICY
        added = [*COMMON, *self.extra]
        if not (is_ide and scope["path"] == "/graphql"):
            added.append((b"content-security-policy", policy))
        if scope["path"] not in self.pages:
            added.append((b"cache-control", b"no-store"))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *(header for header in added if header[0] not in names),
                ]
            await send(message)

        await self.app(scope, receive, with_headers)
