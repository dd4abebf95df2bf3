"""The soak test's report: from the merged results, the server's log and the samples of
its RSS and CPU, the pass/fail checks, the human summary and the JSON object.

It owns reading the server log (who left and why, tracebacks, errors), the RSS slope
over the second half of the load, latency percentiles from the histograms, the checks
that decide the exit status (listed in bench/soak.py's docstring) and the printing.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path
from typing import Any

from soak_ledger import describe
from soak_plan import Plan


def slope_kib_per_min(samples: list[tuple[float, int]]) -> float | None:
    if len(samples) < 2:
        return None
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_r = sum(r for _, r in samples) / n
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    if not var:
        return None
    cov = sum((t - mean_t) * (r - mean_r) for t, r in samples)
    return cov / var * 60


def percentile_ms(hist: Counter[int], fraction: float) -> float | None:
    total = sum(hist.values())
    if not total:
        return None
    want = fraction * total
    running = 0
    for bucket in sorted(hist):
        running += hist[bucket]
        if running >= want:
            return bucket / 1000
    return max(hist) / 1000


def read_server_log(path: Path) -> dict[str, Any]:
    text = path.read_bytes().decode("utf-8", "replace")
    left_honest: Counter[str] = Counter()
    left_abusive: Counter[str] = Counter()
    for line in text.splitlines():
        if 'msg="client left"' not in line:
            continue
        found = re.search(r'reason=("(?:[^"\\]|\\.)*"|\S+)', line)
        reason = found.group(1).strip('"') if found else "?"
        if reason.startswith("Quit:") or reason == "Client Quit":
            reason = "Quit"
        found = re.search(r"nick=(\S+)", line)
        nick = found.group(1) if found else "*"
        if re.fullmatch(r"h\d+", nick):
            left_honest[reason] += 1
        elif not nick.startswith(("decoy", "soakcheck")):  # those are the harness's own
            left_abusive[reason] += 1
    return {
        "tracebacks": text.count("Traceback"),
        "errors": sum(" level=error " in line for line in text.splitlines()),
        "warnings": sum(" level=warning " in line for line in text.splitlines()),
        "left_honest": dict(left_honest),
        "left_abusive": dict(left_abusive),
        "error_lines": [ln[:300] for ln in text.splitlines() if " level=error " in ln][:5],
    }


def build_report(
    args: argparse.Namespace, plan: Plan, m: dict[str, Any], log: dict[str, Any],
    samples: list[tuple[float, float, int, float]], load_start: float, load_end: float,
    started: float, rss_start: int, rss_end: int, rss_after_quit: int, cpu_start: float,
    cpu_end: float, ping_rtt: float | None, exit_code: int | None, joined_all: int, tmp: Path,
) -> dict[str, Any]:  # fmt: skip
    load_s = load_end - load_start
    half = load_start - started + load_s / 2
    second_half = [(t, rss) for t, phase, rss, _ in samples if phase == 1 and t >= half]
    slope = slope_kib_per_min(second_half)
    load_rss = [rss for _, phase, rss, _ in samples if phase == 1]
    lost = m["lost"]
    if plan.trace:
        expected_ids = set(m["trace_exp"])
        got_ids = set(m["trace_rx"])
        lost = len(expected_ids - got_ids)
        m["unexpected"] = len(got_ids - expected_ids)
        m["lost_examples"] = [describe(i) for i in sorted(expected_ids - got_ids)[:10]]
        m["unexpected_examples"] = [describe(i) for i in sorted(got_ids - expected_ids)[:10]]
    honest_disconnects = sum(m["honest_disconnects"].values())
    server_side_drops = {k: v for k, v in log["left_honest"].items() if k != "Quit"}
    checks: dict[str, bool | None] = {
        "no honest client disconnected": honest_disconnects == 0 and not server_side_drops,
        # with --trace the count is exact; without, a hash mismatch may hide a loss
        "no honest message lost": lost == 0 and (plan.trace or m["mismatched_recipients"] == 0),
        "no duplicate or unexpected delivery": m["duplicates"] == 0 and m["unexpected"] == 0,
        "every honest client registered and joined": joined_all == plan.honest,
        "no honest login or command refused": not m["honest_errors"],
        "server answers PING at the end": ping_rtt is not None,
        "server exits cleanly on SIGTERM": exit_code == 0,
        "no Traceback in the server log": log["tracebacks"] == 0,
        # judged from 5 minutes of load on: before that the second half is the warm-up's end
        "RSS flat (second-half slope)": (
            None if args.minutes < 5 or slope is None else slope <= args.max_slope
        ),
    }
    cpu_load = cpu_end - cpu_start
    lat, ramp_lat = m["latency"], m["ramp_latency"]
    return {
        "passed": all(ok is not False for ok in checks.values()),
        "checks": checks,
        "clients": args.clients, "honest": plan.honest, "abusive_clients": plan.abusive,
        "minutes": args.minutes, "workers": args.workers, "channels": plan.channels,
        "ramp_s": round(load_start - started, 1),
        "rss_kib": {"start": rss_start, "end": rss_end, "max": max(load_rss or [rss_end]),
                    "after_clients_left": rss_after_quit,
                    "breakdown": m["memory"], "database_kib": m["db_kib"],
                    "slope_second_half_kib_per_min": None if slope is None else round(slope, 1)},
        "server_cpu_s": {"load": round(cpu_load, 1), "total": round(cpu_end, 1),
                         "load_share_of_one_core": round(cpu_load / load_s, 3) if load_s else None},
        "generator_cpu_s": round(m["cpu_s"], 1),
        "honest_disconnects": honest_disconnects,
        "honest_disconnect_reasons": dict(m["honest_disconnects"]),
        "honest_server_side_leaves": log["left_honest"],
        "messages": {
            "sent": sum(m["sent"].values()), "sent_by_kind": dict(m["sent"]),
            "echoed": m["echoed"], "refused_by_server": dict(m["rejected"]),
            "expected_deliveries": m["expected"], "delivered": m["delivered"], "lost": lost,
            "duplicated": m["duplicates"], "unexpected": m["unexpected"],
            "mismatched_recipients": m["mismatched_recipients"],
            "echo_out_of_order": m["echo_out_of_order"],
        },
        "latency_ms": {"p50": percentile_ms(lat, 0.5), "p99": percentile_ms(lat, 0.99),
                       "max": m["latency_max_us"] / 1000},
        "ramp_latency_ms": {"p50": percentile_ms(ramp_lat, 0.5),
                            "p99": percentile_ms(ramp_lat, 0.99),
                            "max": m["ramp_latency_max_us"] / 1000},
        "latency_max_ms_per_10s": [(w * 10, m["latency_peaks"][w] / 1000)
                                   for w in sorted(m["latency_peaks"])],
        "logins_ok": dict(m["logins_ok"]), "logins_failed": dict(m["logins_failed"]),
        "honest_errors": dict(m["honest_errors"]), "events": dict(m["events"]),
        "abusive": {
            "connections": dict(m["abuse_conns"]),
            "server_log_reasons": log["left_abusive"],
            "client_seen": dict(m["abuse_closed"]),
            "replies": dict(m["abuse_replies"]),
            "median_life_s": {k: sorted(v)[len(v) // 2] for k, v in m["abuse_life"].items()},
            "fakelag_max_s": round(m["fakelag_max_s"], 2),
        },
        "final_ping_rtt_ms": None if ping_rtt is None else round(ping_rtt * 1000, 1),
        "server_exit_code": exit_code,
        "server_log": {"tracebacks": log["tracebacks"], "errors": log["errors"],
                       "warnings": log["warnings"], "error_lines": log["error_lines"]},
        "rss_samples": [(t, rss) for t, _, rss, _ in samples],
        "examples": {"errors": m["error_examples"][:10],
                     "lost": m.get("lost_examples", []),
                     "unexpected": m.get("unexpected_examples", [])},
        "tmp": str(tmp),
    }  # fmt: skip


def print_report(r: dict[str, Any], m: dict[str, Any]) -> None:
    msg, rss, lat, ab = r["messages"], r["rss_kib"], r["latency_ms"], r["abusive"]

    def fmt(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    lines = [
        "",
        f"soak: {r['clients']} clients ({r['honest']} honest, {r['abusive_clients']} abusive), "
        f"{r['minutes']:g} min of load after a {r['ramp_s']:.0f} s ramp",
        f"server RSS: start {rss['start']} KiB, end {rss['end']} KiB, max {rss['max']} KiB, "
        f"second-half slope {rss['slope_second_half_kib_per_min']} KiB/min "
        f"(after the clients left: {rss['after_clients_left']} KiB)",
        f"  RSS parts at start {rss['breakdown']['start']}, at end {rss['breakdown']['end']}; "
        f"database {rss['database_kib']} KiB",
        f"server CPU: {r['server_cpu_s']['load']} s during the load "
        f"({r['server_cpu_s']['load_share_of_one_core']} of a core), "
        f"{r['server_cpu_s']['total']} s in all; generator {r['generator_cpu_s']} s",
        f"honest disconnects: {r['honest_disconnects']} {r['honest_disconnect_reasons'] or ''}"
        f"; server-side leaves of honest clients: {r['honest_server_side_leaves']}",
        f"honest messages: sent {msg['sent']} {msg['sent_by_kind']}, refused by the server "
        f"{msg['refused_by_server'] or 0}",
        f"deliveries: expected {msg['expected_deliveries']}, delivered {msg['delivered']}, "
        f"lost {msg['lost']}, duplicated {msg['duplicated']}, unexpected {msg['unexpected']}, "
        f"recipients whose hash differs {msg['mismatched_recipients']}",
        f"latency during the load: p50 {fmt(lat['p50'])} ms, p99 {fmt(lat['p99'])} ms, "
        f"max {fmt(lat['max'])} ms (during the ramp: p99 {fmt(r['ramp_latency_ms']['p99'])} ms, "
        f"max {fmt(r['ramp_latency_ms']['max'])} ms)",
        f"logins ok {r['logins_ok']}, failed {r['logins_failed'] or 0}; events {r['events']}",
        f"honest errors: {r['honest_errors'] or 0}",
        f"abusive connections: {ab['connections']}",
        f"abusive disconnects (server log): {ab['server_log_reasons']}",
        f"abusive disconnects (as the client saw them): {ab['client_seen']}",
        f"abusive replies: {ab['replies']}; slowflood PING delay max {ab['fakelag_max_s']} s; "
        f"median connection life {ab['median_life_s']}",
        f"final PING from a new client: {r['final_ping_rtt_ms']} ms; server exit code "
        f"{r['server_exit_code']}; log: {r['server_log']['tracebacks']} Traceback, "
        f"{r['server_log']['errors']} errors, {r['server_log']['warnings']} warnings",
    ]
    for label, items in r["examples"].items():
        if items:
            lines.append(f"{label} examples: {items}")
    marks = {True: "ok", False: "FAIL", None: "skip"}
    lines += [f"  [{marks[ok]}] {name}" for name, ok in r["checks"].items()]
    lines.append(f"RESULT: {'PASS' if r['passed'] else 'FAIL'} (files in {r['tmp']})")
    print("\n".join(lines))
