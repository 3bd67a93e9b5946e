"""Prometheus metrics of one server, in a registry of its own (never the global one)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]


class Metrics:
    """The server's metrics; ``render()`` gives the Prometheus text format."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.commits = Counter(
            "drago_commits", "Commits made through the API, by outcome", ["outcome"], registry=r
        )
        self.validation_failures = Counter(
            "drago_validation_failures",
            "Change sets or revisions rejected by the validator",
            ["source"],
            registry=r,
        )
        self.longpoll_waiters = Gauge(
            "drago_longpoll_waiters", "Config requests currently held open", registry=r
        )
        self.render_seconds = Histogram(
            "drago_render_seconds",
            "Time to validate and render a new live revision",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=r,
        )
        self.nodes = Gauge("drago_nodes", "Nodes in the live revision", registry=r)
        self.nodes_in_sync = Gauge(
            "drago_nodes_in_sync",
            "Nodes whose last reported applied hash equals the desired hash",
            registry=r,
        )
        self.nodes_woken = Counter(
            "drago_nodes_woken", "Nodes whose config hash changed with a new revision", registry=r
        )
        self.live_problem = Gauge(
            "drago_live_revision_problem",
            "1 when the branch head is invalid and an older revision is served",
            registry=r,
        )
        self.config_answers = Counter(
            "drago_config_answers",
            "Node configs answered: full (200) or delta (226), by content encoding",
            ["kind", "encoding"],
            registry=r,
        )
        self.config_answer_bytes = Counter(
            "drago_config_answer_bytes",
            "Bytes of node config bodies answered (as sent), by kind",
            ["kind"],
            registry=r,
        )
        self.config_bodies_built = Counter(
            "drago_config_bodies_built",
            "Config bodies serialized (each shared by every waiter of its hash), by kind",
            ["kind"],
            registry=r,
        )
        self.delta_fallbacks = Counter(
            "drago_config_delta_fallbacks",
            "Delta requests answered with the full config, by reason",
            ["reason"],
            registry=r,
        )
        self.requests = Counter(
            "drago_http_requests", "HTTP requests answered, by status class", ["status"], registry=r
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
