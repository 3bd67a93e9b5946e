"""OpenAPI-driven fuzzing: every operation of the document, valid and invalid input,
against a real server (uvicorn in a thread) with an admin token: never a 5xx.

Bounded to about two minutes on two cores (``EXAMPLES`` per operation and mode).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.core.result import Ok

from drago.server.api.openapi import openapi_document
from drago.server.app import app_routes, create_app, open_context
from drago.server.settings import Settings

pytestmark = pytest.mark.slow

EXAMPLES = 15
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
SCHEMA = schemathesis.openapi.from_dict(openapi_document(app_routes()))
#: An operation of the document; its parameters are schemathesis internals.
Operation = APIOperation[Any, Any, Any, Any]


def _operations() -> list[Operation]:
    operations = []
    for result in SCHEMA.get_all_operations():
        assert isinstance(result, Ok), result.err()
        operations.append(result.ok())
    return operations


OPERATIONS = _operations()


@dataclass(frozen=True)
class Running:
    url: str
    admin: str


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    example = Path(__file__).resolve().parents[3] / "example-repo"
    data = tmp_path_factory.mktemp("fuzz") / "data"
    opened = open_context(Settings(data=data, init_from=example, max_wait=0.2))
    assert opened.bootstrap_secret is not None
    config = uvicorn.Config(
        create_app(opened.ctx), host="127.0.0.1", port=0, log_level="error", lifespan="on"
    )
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not instance.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = instance.servers[0].sockets[0].getsockname()[1]
    try:
        yield Running(f"http://127.0.0.1:{port}", opened.bootstrap_secret)
    finally:
        instance.should_exit = True
        thread.join(timeout=10)


def test_document_has_operations() -> None:
    assert len(OPERATIONS) > 20


def _has_input(operation: Operation) -> bool:
    return bool(len(operation.body) or len(operation.query) or len(operation.path_parameters))


#: Invalid input can only be generated for operations that take some.
CASES = [
    pytest.param(op, mode, id=f"{op.label} {mode.value}")
    for op in OPERATIONS
    for mode in MODES
    if mode is GenerationMode.POSITIVE or _has_input(op)
]


@pytest.mark.parametrize(("operation", "mode"), CASES)
def test_no_server_errors(server: Running, operation: Operation, mode: GenerationMode) -> None:
    session = requests.Session()
    headers = {"Authorization": f"Bearer {server.admin}"}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Case[Operation]) -> None:
        response = case.call(base_url=server.url, session=session, headers=headers, timeout=10)
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}"
        )

    with session:
        check()
