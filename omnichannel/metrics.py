"""Prometheus metrics of one daemon (its own registry, so tests can run several daemons)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    """Counters and gauges the daemon exports at ``GET /metrics``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.envelopes = Counter("omnichannel_envelopes_total", "Envelopes stored, by connector and outcome",
                                 ["connector", "outcome"], registry=r)
        self.duplicates = Counter("omnichannel_envelopes_duplicate_total",
                                  "Envelopes redelivered and absorbed", ["connector"], registry=r)
        self.complaints = Counter("omnichannel_complaints_total", "Complaints created", ["connector"], registry=r)
        self.quarantined = Counter("omnichannel_quarantined_total", "Envelopes quarantined", ["connector"],
                                   registry=r)
        self.poll_duration = Histogram("omnichannel_poll_duration_seconds", "Duration of one poll",
                                       ["connector"], registry=r,
                                       buckets=(0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120))
        self.poll_failures = Counter("omnichannel_poll_failures_total", "Failed polls", ["connector", "error"],
                                     registry=r)
        self.connector_up = Gauge("omnichannel_connector_up", "1 when the connector's last poll worked",
                                  ["connector"], registry=r)
        self.routed = Counter("omnichannel_routed_total", "Complaints through the router", registry=r)
        self.router_backlog = Gauge("omnichannel_router_backlog",
                                    "Complaints stored and not yet routed (the router yields to a busy intake)",
                                    registry=r)
        self.outbox_depth = Gauge("omnichannel_outbox_depth", "Outbox rows by status", ["status"], registry=r)
        self.deliveries = Counter("omnichannel_deliveries_total", "Deliveries made", ["destination"], registry=r)
        self.delivery_failures = Counter("omnichannel_delivery_failures_total", "Failed delivery attempts",
                                         ["destination", "kind"], registry=r)
        self.dead_letters = Counter("omnichannel_dead_letters_total", "Deliveries dead-lettered",
                                    ["destination"], registry=r)
        # several replicas scrape as one job: which one this is, and what it leads
        self.replica = Gauge("omnichannel_replica_info", "1, labelled with this replica's name", ["replica"],
                             registry=r)
        self.lease_held = Gauge("omnichannel_lease_held", "1 while this replica holds the lease (router, "
                                "pull connectors)", ["replica", "lease"], registry=r)

    def declare(self, connector: str, up: bool | None = None) -> None:
        """Create a connector's series at zero when it starts, so that an alert on "nothing arrived for six
        hours" or "not up" can fire for a channel that has sent nothing since the restart (a series that does
        not exist matches no expression). ``up``: a push connector is up once its webhook is listening; a
        pull connector's poller sets it after each poll."""
        self.envelopes.labels(connector, "complaint")
        self.complaints.labels(connector)
        self.quarantined.labels(connector)
        self.duplicates.labels(connector)
        if up is not None:
            self.connector_up.labels(connector).set(1 if up else 0)

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)
