"""docs/observability/: the Grafana dashboard and the Prometheus alerting rules name only metrics
(and label values) that a running server's `GET /metrics` really serves, so a renamed metric
cannot leave a dashboard blank or an alert silently never firing."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from realtime_helpers import connect, make_pitch, prometheus, user

DOCS = Path(__file__).resolve().parents[1] / "docs" / "observability"
DASHBOARD = DOCS / "grafana-pitchey.json"
ALERTS = DOCS / "alerts.yml"

#: Series Prometheus makes itself for every target, not served by the node.
PROMETHEUS_OWN = {"up"}
#: Labels Prometheus attaches to every series of a target (not in the /metrics text).
TARGET_LABELS = {"job", "instance"}
_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool"}
_IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^{}]*)\}")
_EQUALS = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"([^"]*)"')


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: identifiers that are not functions or
    aggregations (those are followed by a parenthesis), keywords, label names, durations,
    numbers or Grafana variables."""
    e = re.sub(r"\$\{?\w+\}?", "", expr)  # Grafana variables ($__rate_interval, ${datasource})
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', e)  # strings (label values)
    e = re.sub(r"\{[^{}]*\}", "", e)  # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)  # range selectors
    e = re.sub(r"\boffset\s+[0-9a-z]+", "", e)  # offset 1h
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", e)  # grouping labels
    e = re.sub(r"(?<![\w:])\d+(?:\.\d+)?(?:[eE][+-]?\d+)?", "0", e)  # numbers (1e-9 too)
    names = set()
    for m in _IDENT.finditer(e):
        if e[m.end() :].lstrip().startswith("("):
            continue  # sum(...), rate(...), histogram_quantile(...)
        if m.group(0) in _KEYWORDS:
            continue
        names.add(m.group(0))
    return names


def label_equalities(expr: str) -> list[tuple[str, str, str]]:
    """(metric, label, value) of every `metric{label="value"}` matcher outside the target labels."""
    found = []
    for m in _SELECTOR.finditer(re.sub(r"\$\{?\w+\}?", "", expr)):
        for label, value in _EQUALS.findall(m.group(2)):
            if label not in TARGET_LABELS:
                found.append((m.group(1), label, value))
    return found


def _walk(node: Any) -> list[str]:
    """Every PromQL expression of a Grafana dashboard: targets' `expr` and template queries."""
    out: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "expr" and isinstance(value, str):
                out.append(value)
            elif key == "definition" and isinstance(value, str):
                # label_values(metric{...}, label): only the selector is PromQL.
                m = re.fullmatch(r"\s*label_values\((.*),\s*\w+\s*\)\s*", value)
                out.append(m.group(1) if m else value)
            else:
                out.extend(_walk(value))
    elif isinstance(node, list):
        for item in node:
            out.extend(_walk(item))
    return out


def dashboard_exprs() -> list[str]:
    return _walk(json.loads(DASHBOARD.read_text()))


def alert_rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load(ALERTS.read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def served(text: str) -> dict[str, list[str]]:
    """Sample name -> its sample lines, from the Prometheus text format."""
    samples: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            m = _IDENT.match(line)
            assert m is not None, line
            samples.setdefault(m.group(0), []).append(line)
    return samples


def test_the_promql_reader_finds_metric_names():
    assert metric_names(
        "histogram_quantile(0.99, sum by (instance, le) "
        '(rate(pitchey_fanout_seconds_bucket{job="p"}[5m]))) > 0.05'
    ) == {"pitchey_fanout_seconds_bucket"}
    assert metric_names(
        'sum(rate(a_total{outcome="lost"}[10m]))'
        " / clamp_min(sum(rate(a_total[10m])), 1e-9) > 0.2 and b > 0.05"
    ) == {"a_total", "b"}
    assert metric_names("sum(c) == 0 and sum(c offset 1h) > 50") == {"c"}
    assert metric_names('sum(rate(d_total{instance=~"$instance"}[$__rate_interval]))') == {"d_total"}
    assert label_equalities('x{job="pitchey", outcome="lost"} + y{type=~"a|b"}') == [("x", "outcome", "lost")]


def test_the_documents_are_well_formed():
    exprs = dashboard_exprs()
    assert len(exprs) >= 15
    dashboard = json.loads(DASHBOARD.read_text())
    for panel in dashboard["panels"]:
        assert panel["title"] and panel["targets"], panel
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
    rules = alert_rules()
    assert len(rules) >= 5
    for rule in rules:
        assert rule["alert"].startswith("Pitchey"), rule
        assert rule["labels"]["severity"] in ("page", "warn", "info"), rule
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule


async def test_every_metric_they_name_is_served_by_a_live_server(make_client):
    client = await make_client()
    # Some traffic, so that the labelled series exist (a command of each kind the tests send,
    # a recovered and a lost recovery).
    _, token = await user(client, "creator")
    pitch = await make_pitch(client, token)
    room = f"pitch:{pitch['id']}"
    conn = await connect(client, token)
    sub = await conn.subscribe(room)
    await conn.post(room, "hello")
    await conn.ping()
    again = await connect(client, token)
    await again.subscribe(room, since=sub["data"]["seq"], epoch=sub["data"]["epoch"])
    samples = served(await prometheus(client))

    exprs = dashboard_exprs() + [rule["expr"] for rule in alert_rules()]
    named: set[str] = set()
    for expr in exprs:
        names = metric_names(expr)
        assert names, f"no metric found in {expr!r}"
        named |= names
        for name in names - PROMETHEUS_OWN:
            assert name in samples, f"{name} (in {expr.strip()!r}) is not in the live /metrics output"
        for name, label, value in label_equalities(expr):
            if name in PROMETHEUS_OWN:
                continue
            assert any(f'{label}="{value}"' in line for line in samples[name]), (
                f'{name}{{{label}="{value}"}} (in {expr.strip()!r}) matches no live series'
            )
    # The documents cover what /ops shows.
    assert {
        "pitchey_ws_connections",
        "pitchey_ws_subscriptions",
        "pitchey_rooms_active",
        "pitchey_frames_out_total",
        "pitchey_fanout_seconds_bucket",
        "pitchey_slow_consumer_closes_total",
        "pitchey_recoveries_total",
        "pitchey_room_events_total",
    } <= named
