"""Progress streams over a real server: success, failure, abort, heartbeats, CSRF, jobs."""

from __future__ import annotations

import json
import uuid

from tests.services import Server
from tests.sse_client import Client, EventReader, Received


def token() -> str:
    return uuid.uuid4().hex[:12]


def names(events: list[Received]) -> list[str]:
    return [e.event for e in events]


async def post_batch(client: Client, **params: object) -> tuple[EventReader, list[Received]]:
    headers = await client.csrf_headers()
    async with client.open("POST", "/test/progress/batch/", params, headers) as reader:
        assert reader.response.status_code == 200
        assert reader.response.headers["content-type"] == "text/event-stream"
        events = await reader.read_to_end()
    return reader, events


async def test_success_reports_progress_result_and_done(daphne: Server) -> None:
    async with Client(daphne.url) as client:
        reader, events = await post_batch(client, token=token(), n=3)
    assert reader.raw.startswith(b"retry: 3000\n\n: started\n\n")
    assert names(events) == ["log", "progress", "progress", "progress", "result", "done"]
    assert json.loads(events[3].data) == {
        "current": 3,
        "total": 3,
        "percent": 100.0,
        "message": "item 3",
    }
    assert json.loads(events[4].data) == {"succeeded": 3, "failed": 0, "errors": []}
    assert json.loads(events[5].data) == {"status": "succeeded"}


async def test_a_failure_midway_is_an_error_event_and_a_clean_end(daphne: Server) -> None:
    async with Client(daphne.url) as client:
        _, safe = await post_batch(client, token=token(), n=5, fail_at=3, safe=1)
        _, unsafe = await post_batch(client, token=token(), n=5, fail_at=2)
    assert names(safe) == ["log", "progress", "progress", "error", "done"]
    assert json.loads(safe[3].data) == {"message": "item 3 is invalid"}
    assert json.loads(unsafe[2].data) == {"message": "The operation failed."}  # no "secret"
    assert json.loads(unsafe[3].data) == {"status": "failed"}


async def test_client_abort_stops_the_work(daphne: Server) -> None:
    work = token()
    async with Client(daphne.url) as client:
        headers = await client.csrf_headers()
        params = {"token": work, "n": 1000, "delay": 0.02}
        async with client.open("POST", "/test/progress/batch/", params, headers) as reader:
            await reader.events(3)  # running: the log line and two items
        # The client is gone: the work must have been stopped where it waited.
        async with Client(daphne.url) as probe:
            for _ in range(500):
                effects = (await probe.http.get(f"/test/progress/effects/{work}/")).json()
                if effects["stopped"]:
                    break
    assert effects["stopped"] is True
    assert 2 <= effects["done"] < 1000


async def test_heartbeats_flow_during_a_silent_phase(daphne: Server) -> None:
    async with Client(daphne.url) as client:
        headers = await client.csrf_headers()
        params = {"silence": 0.5}
        async with client.open("POST", "/test/progress/phased/", params, headers) as reader:
            events = await reader.read_to_end()
    assert [json.loads(e.data).get("percent") for e in events[:3]] == [10.0, 45.0, 100.0]
    assert reader.comments.count("") >= 2  # heartbeats while it was silent


async def test_post_without_csrf_token_is_refused(daphne: Server) -> None:
    async with Client(daphne.url) as client:
        response = await client.http.post("/test/progress/batch/", params={"token": token()})
    assert response.status_code == 403


async def test_reload_mid_job_shows_the_current_percent_and_completion_once(
    daphne: Server,
) -> None:
    async with Client(daphne.url) as client:
        await client.login(f"job{token()}")
        async with client.stream() as first_page:
            await client.wait_hub(subscriptions=1)
            job_id = (await client.http.get("/test/progress/jobs/start/", params={"n": 40})).json()[
                "id"
            ]
            ticks = await first_page.events(5)
        assert {json.loads(t.data)["id"] for t in ticks} == {job_id}
        async with client.stream() as reloaded:  # a reload: a new page, no cursor
            state = (await client.http.get(f"/events/jobs/{job_id}/")).json()
            assert state["status"] == "running" and state["percent"] > 0  # not 0%
            await reloaded.until(
                lambda r: any('"status":"succeeded"' in e.data for e in r._ready), 30
            )
            finals = [
                e for e in await reloaded.events(len(reloaded._ready)) if '"succeeded"' in e.data
            ]
        assert len(finals) == 1 and json.loads(finals[0].data)["percent"] == 100.0
        async with client.stream(last_event_id=finals[0].id) as later:  # back after it ended
            await client.wait_hub(subscriptions=1)
            await client.publish({"kind": "broadcast", "data": "sentinel"})
            (sentinel,) = await later.events(1)  # the completion is not sent again
        assert sentinel.data == "sentinel"


async def test_a_job_can_be_cancelled_from_the_page(daphne: Server) -> None:
    async with Client(daphne.url) as client:
        await client.login(f"job{token()}")
        async with client.stream() as page:
            await client.wait_hub(subscriptions=1)
            start = await client.http.get("/test/progress/jobs/start/", params={"n": 500})
            job_id = start.json()["id"]
            await page.events(3)
            headers = await client.csrf_headers()
            refused = await client.http.post(f"/events/jobs/{job_id}/cancel/")
            assert refused.status_code == 403  # CSRF like any POST
            cancel = await client.http.post(f"/events/jobs/{job_id}/cancel/", headers=headers)
            assert cancel.json() == {"id": job_id, "cancel_requested": True}
            await page.events_until(lambda e: '"status":"cancelled"' in e.data, 30)
        state = (await client.http.get(f"/events/jobs/{job_id}/")).json()
    assert state["status"] == "cancelled" and state["current"] < 500


async def test_someone_elses_job_is_not_found(daphne: Server) -> None:
    async with Client(daphne.url) as owner, Client(daphne.url) as other:
        await owner.login(f"job{token()}")
        await other.login(f"job{token()}")
        job_id = (await owner.http.get("/test/progress/jobs/start/", params={"n": 2})).json()["id"]
        assert (await other.http.get(f"/events/jobs/{job_id}/")).status_code == 404
        headers = await other.csrf_headers()
        cancel = await other.http.post(f"/events/jobs/{job_id}/cancel/", headers=headers)
        assert cancel.status_code == 404
