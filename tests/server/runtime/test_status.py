from __future__ import annotations

import pytest
from pydantic import ValidationError

from drago.server.runtime.status import PeerStatus, StatusReport, StatusStore
from drago.server.runtime.stores import Runtime
from tests.server.runtime.conftest import Backend


@pytest.fixture
def store(runtime: Runtime) -> StatusStore:
    return runtime.status


def test_put_get_and_overwrite(store: StatusStore) -> None:
    assert store.get("fra-1") is None
    report = StatusReport(
        applied_hash="a" * 64,
        applied_revision="b" * 40,
        errors=["boom"],
        peers=[PeerStatus(network="backbone", name="nyc-1", public_key="k", rx_bytes=5)],
    )
    store.put("fra-1", report, seen_at=100.0)
    record = store.get("fra-1")
    assert record is not None
    assert (record.report, record.last_seen) == (report, 100.0)
    store.put("fra-1", StatusReport(applied_hash="c" * 64), seen_at=200.0)
    store.put("nyc-1", StatusReport(), seen_at=150.0)
    everything = store.all()
    assert list(everything) == ["fra-1", "nyc-1"]
    assert everything["fra-1"].report.applied_hash == "c" * 64
    assert everything["fra-1"].report.errors == []
    assert everything["fra-1"].last_seen == 200.0


def test_report_rejects_unknown_fields_and_negative_counters() -> None:
    with pytest.raises(ValidationError):
        StatusReport.model_validate({"applied_hash": "x", "private_key": "secret"})
    with pytest.raises(ValidationError):
        PeerStatus.model_validate({"public_key": "k", "rx_bytes": -1})


def test_applied_reads_hash_and_error_count_only(store: StatusStore) -> None:
    assert store.applied() == {}
    store.put("fra-1", StatusReport(applied_hash="a" * 64, errors=["x", "y"]))
    store.put("nyc-1", StatusReport())
    assert store.applied() == {"fra-1": ("a" * 64, 2), "nyc-1": (None, 0)}


def test_status_survives_reopening(backend: Backend) -> None:
    report = StatusReport(applied_hash="a" * 64, errors=["é ✓"])
    backend.open().status.put("fra-1", report, seen_at=5.5)
    record = backend.open().status.get("fra-1")
    assert record is not None
    assert (record.report, record.last_seen) == (report, 5.5)
