"""Operations: health, Prometheus metrics, the API description."""

from __future__ import annotations

import datetime as dt

from tests.server.helpers import AsgiClient, Device


def test_health_answers_with_a_database_round_trip(client: AsgiClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_metrics_count_ops_by_outcome_and_report_each_device(client: AsgiClient, handheld: Device) -> None:
    op = handheld.op("putaway.confirm", {"item_id": "I-1", "qty": 1, "from_location_id": "DOCK", "to_location_id": "A-01"})
    handheld.push(op)
    handheld.push(op)
    handheld.send("putaway.confirm", {"item_id": "NOPE", "qty": 1, "from_location_id": "DOCK", "to_location_id": "A-01"})
    oldest = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()
    handheld.push(handheld.op("task.release", {"task_id": "nope"}), status={"pending": 3, "oldest_pending_at": oldest})
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'backroom_ops_total{status="applied"} 1.0' in text
    assert 'backroom_ops_total{status="duplicate"} 1.0' in text
    assert 'backroom_ops_total{status="rejected"} 2.0' in text
    assert "backroom_ingest_batch_seconds_count 4.0" in text
    assert 'backroom_device_pending_ops{device_id="HH-1",store_id="S-100"} 3.0' in text
    age = next(line for line in text.splitlines() if line.startswith("backroom_device_pending_age_seconds{"))
    assert 299 <= float(age.split()[-1]) < 400
    assert "backroom_device_lag_seconds{" in text


def test_the_api_is_described_and_browsable(client: AsgiClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/v1/stores/{store_id}/ops", "/v1/stores/{store_id}/changes", "/v1/stores/{store_id}/erp/events",
                 "/v1/stores/{store_id}/tasks/{task_id}/claim", "/v1/stores/{store_id}/exceptions/{exception_id}/resolve",
                 "/healthz", "/metrics"):
        assert path in paths
