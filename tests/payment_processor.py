"""A payment processor in test mode behind HTTP, on loopback: the card network is outside our
reach, so this is the one thing the tests stand in for. `pitchey serve` talks to it through
`PITCHEY_PAYMENTS_URL` (server/payments.py HttpPaymentProvider), so a charge or transfer the
processor accepted survives a crash of the node that asked for it, as with a real processor.

Behind the HTTP surface is the same `TestPaymentProvider` the in-process tests use (its test
cards and amounts, one outcome per idempotency key). `hold` pauses answers (not decisions) so a
test can kill a node while a call is in flight; `requests` records every call's path and key.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from aiohttp import web

from pitchey.server.payments import CardDetails, ChargeResult, TestPaymentProvider


class Processor:
    def __init__(self) -> None:
        self.provider = TestPaymentProvider()
        self.requests: list[tuple[str, str]] = []
        self.hold = asyncio.Event()
        self.hold.set()  # set = answer at once; clear() to hold answers back
        self.received = asyncio.Event()
        self.url = ""
        self._runner: web.AppRunner | None = None

    def distinct_successes(self) -> list[tuple[str, Decimal]]:
        return list(self.provider.charged)

    async def _answer(self, request: web.Request, result: ChargeResult) -> web.Response:
        await self.hold.wait()
        return web.json_response(
            {
                "id": result.id,
                "status": result.status,
                "declineCode": result.decline_code,
                "paymentMethod": result.payment_method,
            }
        )

    async def _handle(self, request: web.Request) -> web.Response:
        key = request.headers.get("Idempotency-Key", "")
        body: dict[str, Any] = await request.json()
        self.requests.append((request.path, key))
        self.received.set()
        amount = Decimal(body["amount"])
        if request.path == "/v1/charges":
            c = body["card"]
            card = CardDetails(c["number"], c["expMonth"], c["expYear"], c["cvc"])
            result = await self.provider.charge(amount, body["currency"], card, key)
        elif request.path == "/v1/charges/saved":
            result = await self.provider.charge_saved(amount, body["currency"], body["paymentMethod"], key)
        else:
            result = await self.provider.transfer(amount, body["currency"], body["reference"], key)
        return await self._answer(request, result)

    async def start(self) -> Processor:
        app = web.Application()
        for path in ("/v1/charges", "/v1/charges/saved", "/v1/transfers"):
            app.router.add_post(path, self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        self.hold.set()
        if self._runner is not None:
            await self._runner.cleanup()
