"""An operation's read session ends with the operation, and a resolver graphql-core left
running when an error nulled its parent (it does not cancel siblings) neither breaks the
answer nor keeps a connection."""

import asyncio

import httpx

from backend import demo
from backend.graphql.compiled import reads as compiled_reads
from backend.main import create_app
from tests.graphql.test_compiled_reads import PORTAL


async def test_an_error_beside_running_loaders_is_the_answer_and_no_connection_stays(
    settings, engine, session_factory
):
    await demo.seed(session_factory)
    # The resolvers (the reference path): the page's member commitments fail on the bad
    # id while their siblings' loaders are still reading.
    app = create_app(settings.model_copy(update={"compiled_reads": False}), engine=engine)
    variables = {"slug": demo.SLUG, "coalitionId": "not-an-id"}
    body = {"query": PORTAL, "operationName": "CoalitionPage", "variables": variables}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        answers = [(await client.post("/graphql", json=body)).json() for _ in range(20)]
    await compiled_reads.close(app.state.compiled_reads)
    # The resolvers left running finish their reads and close their sessions.
    for _ in range(100):
        if engine.pool.checkedout() == 0:
            break
        await asyncio.sleep(0.02)

    messages = {error["message"] for answer in answers for error in answer["errors"]}
    assert messages == {"Invalid input: coalitionId."}
    assert all(answer["errors"][0]["extensions"]["code"] == "INVALID_INPUT" for answer in answers)
    assert engine.pool.checkedout() == 0
