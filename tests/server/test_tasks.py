"""Tasks: managers plan the work, associates claim it with a lease, a second claimer is told who has it."""

from __future__ import annotations

import datetime as dt

import httpx

from tests.server.helpers import STORE, AsgiClient, Device, exceptions_of
from tests.support.devices import approved_device

MGR = {"X-User-Id": "U-MGR"}
BASE = f"/v1/stores/{STORE}/tasks"


def _signed(client: AsgiClient, device_id: str) -> httpx.Auth:
    """Requests signed by `device_id` (enrolled and approved): a device claims and releases as itself."""
    return approved_device(client.app.state.services.engine, STORE, device_id)


def create(client: AsgiClient, task_id: str = "T-1", **extra: object) -> dict[str, object]:
    response = client.post(BASE, json={"task_id": task_id, "type": "count", "title": "count A-01", **extra}, headers=MGR)
    assert response.status_code == 201, response.text
    result: dict[str, object] = response.json()
    return result


def test_a_manager_creates_assigns_reprioritises_and_cancels_a_task(client: AsgiClient) -> None:
    assert create(client)["status"] == "open"
    patched = client.patch(f"{BASE}/T-1", json={"assignee_id": "U-ASSOC", "priority": 1}, headers=MGR).json()
    assert patched["status"] == "assigned" and patched["assignee_id"] == "U-ASSOC" and patched["priority"] == 1
    pooled = client.patch(f"{BASE}/T-1", json={"assignee_id": None}, headers=MGR).json()
    assert pooled["status"] == "open" and pooled["assignee_id"] is None
    cancelled = client.post(f"{BASE}/T-1/cancel", json={"reason": "done by the night crew"}, headers=MGR).json()
    assert cancelled["status"] == "cancelled"
    assert client.post(f"{BASE}/T-1/claim", json={"device_id": "HH-1"}, auth=_signed(client, "HH-1"), headers={"X-User-Id": "U-ASSOC"}).status_code == 409
    listed = client.get(BASE, params={"status": "cancelled"}).json()
    assert [t["task_id"] for t in listed] == ["T-1"]


def test_an_associate_may_not_plan_work(client: AsgiClient) -> None:
    response = client.post(BASE, json={"task_id": "T-2", "type": "pick"}, headers={"X-User-Id": "U-ASSOC"})
    assert response.status_code == 403
    # Naming no one, or someone with no session (nobody can sign in as an unknown user): 401 session_required.
    for headers in ({}, {"X-User-Id": "U-GHOST"}):
        refused = client.post(BASE, json={"task_id": "T-2", "type": "pick"}, headers=headers)
        assert refused.status_code == 401 and refused.json()["detail"]["code"] == "session_required"


def test_a_second_claimer_learns_who_holds_the_task_and_until_when(client: AsgiClient) -> None:
    create(client)
    first = client.post(f"{BASE}/T-1/claim", json={"device_id": "HH-1", "lease_seconds": 600}, auth=_signed(client, "HH-1"), headers={"X-User-Id": "U-ASSOC"})
    assert first.status_code == 200 and first.json()["status"] == "in_progress"
    lease_until = first.json()["lease_until"]
    second = client.post(f"{BASE}/T-1/claim", json={"device_id": "HH-2"}, auth=_signed(client, "HH-2"), headers={"X-User-Id": "U-ASSOC2"})
    assert second.status_code == 409
    detail = second.json()["detail"]
    assert detail["holder_device_id"] == "HH-1" and detail["holder_user_id"] == "U-ASSOC"
    assert dt.datetime.fromisoformat(detail["lease_until"]) == dt.datetime.fromisoformat(lease_until)
    again = client.post(f"{BASE}/T-1/claim", json={"device_id": "HH-1"}, auth=_signed(client, "HH-1"), headers={"X-User-Id": "U-ASSOC"})
    assert again.status_code == 200  # the holder extends its lease
    assert client.post(f"{BASE}/T-1/release", json={"device_id": "HH-2"}, auth=_signed(client, "HH-2"), headers={"X-User-Id": "U-ASSOC2"}).status_code == 409
    released = client.post(f"{BASE}/T-1/release", json={"device_id": "HH-1"}, auth=_signed(client, "HH-1"), headers={"X-User-Id": "U-ASSOC"}).json()
    assert released["status"] == "assigned" and released["lease_holder_device_id"] is None
    taken = client.post(f"{BASE}/T-1/claim", json={"device_id": "HH-2"}, auth=_signed(client, "HH-2"), headers={"X-User-Id": "U-ASSOC2"})
    assert taken.status_code == 200 and taken.json()["lease_holder_device_id"] == "HH-2"


def test_an_expired_lease_can_be_taken_over(client: AsgiClient, handheld: Device) -> None:
    create(client)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    # An offline claim whose lease has already run out by the time it syncs.
    assert handheld.send("task.claim", {"task_id": "T-1", "lease_until": past.isoformat()})["status"] == "applied"
    taken = client.post(f"{BASE}/T-1/claim", json={"device_id": "HH-2"}, auth=_signed(client, "HH-2"), headers={"X-User-Id": "U-ASSOC2"})
    assert taken.status_code == 200


def test_task_ops_use_the_same_rules_as_the_endpoints(client: AsgiClient, handheld: Device, handheld2: Device, tablet: Device) -> None:
    assert tablet.send("task.create", {"task_id": "T-9", "type": "pick", "priority": 2})["status"] == "applied"
    assert tablet.send("task.assign", {"task_id": "T-9", "assignee_id": "U-ASSOC"})["status"] == "applied"
    assert tablet.send("task.reprioritise", {"task_id": "T-9", "priority": 1})["status"] == "applied"
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)).isoformat()
    assert handheld.send("task.claim", {"task_id": "T-9", "lease_until": until})["status"] == "applied"
    refused = handheld2.send("task.claim", {"task_id": "T-9", "lease_until": until})
    assert refused["status"] == "rejected" and "HH-1" in refused["reason"]
    # Both worked it offline: the second completion is recorded and raised, not refused.
    assert handheld2.send("task.complete", {"task_id": "T-9"})["status"] == "applied"
    assert [e["kind"] for e in exceptions_of(client)] == ["task_worked_twice"]
    assert client.get(f"{BASE}/T-9").json()["status"] == "done"
    assert tablet.send("task.cancel", {"task_id": "T-9", "reason": "late"})["status"] == "rejected"


def test_a_body_naming_another_device_than_the_signer_is_refused_and_changes_nothing(client: AsgiClient) -> None:
    create(client)
    for action in ("claim", "release", "complete"):
        response = client.post(f"{BASE}/T-1/{action}", json={"device_id": "HH-1"}, auth=_signed(client, "HH-2"),
                               headers={"X-User-Id": "U-ASSOC2"})
        assert response.status_code == 403, response.text
        detail = response.json()["detail"]
        assert detail["code"] == "device_mismatch" and "HH-2" in detail["message"] and "HH-1" in detail["message"]
    task = client.get(f"{BASE}/T-1").json()
    assert task["status"] == "open" and task["lease_holder_device_id"] is None
    # Without a device_id in the body the signer acts, whatever X-Device-Id claims.
    claimed = client.post(f"{BASE}/T-1/claim", json={}, auth=_signed(client, "HH-2"),
                          headers={"X-User-Id": "U-ASSOC2", "X-Device-Id": "HH-1"})
    assert claimed.status_code == 200 and claimed.json()["lease_holder_device_id"] == "HH-2"
