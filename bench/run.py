"""`make bench`: speed, size, Terraform scale and fault-soak figures in one table.

    .venv/bin/python bench/run.py [--markdown] [--only cold,parse,e2e,zip,plan,soak,storm,chaos]
        [--quick]

Prints the table (text, or markdown with --markdown) and always writes the markdown version to
build/bench.md for the BEGIN_BENCH block of docs/benchmarks.md. Every timing is a median of
repeated runs.
Exits 1 when the soak silently lost an alarm (or a figure could not be measured at all).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import chaos
import cold_start
import graph_cost
import machine
import package_size
import per_event
import plan_scale
import previous
import soak
import storm
from common import BUILD_DIR, EVENTS_DIR, REPO_ROOT, use_repo_paths
from table import Row, render_markdown, render_text, verdict

SECTIONS = ("cold", "parse", "e2e", "zip", "plan", "soak", "storm", "graph", "chaos")
# Issue 22: a webhook-mode cold start no slower than the bare seed handler's.
COLD_START_RATIO_TARGET = 1.0
# v0.1's 20 KB held a webhook-only handler; Slack app mode, state, routing, digests and graphs
# brought it to about 63 KB. What a cold start pays is measured by the cold-start rows instead.
ZIP_TARGET_BYTES = 80_000
RSS_TARGET_MIB = 128
STORM_SIZES = (1, 50, 200, 500)
STORM_TARGET_ALARMS = 500
STORM_TARGET_MESSAGES = 10
STORM_LONE_ALARM_SLACK_SECONDS = 5.0


class Bench:
    """Collects rows and notes while the sections run."""

    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.rows: list[Row] = []
        self.notes: list[str] = []
        self.failed = False
        self.package: package_size.Package | None = None

    def section(self, name: str, action: Callable[[], None]) -> None:
        """Run one section; a crash becomes a row that says so and a non-zero exit."""
        started = time.perf_counter()
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        try:
            action()
        except Exception as exc:  # report and go on: one broken figure must not hide the rest
            self.failed = True
            self.rows.append(Row(f"{name}: not measured", f"{type(exc).__name__}: {exc}"[:160]))
        print(f"bench: {name} done in {time.perf_counter() - started:.1f} s", file=sys.stderr)

    def zip_package(self) -> package_size.Package:
        """The deployment zip, built once and shared by the cold-start and size sections."""
        if self.package is None:
            self.package = package_size.build_package()
        return self.package

    # -- sections ----------------------------------------------------------------------------
    def cold(self) -> None:
        use_repo_paths()
        from support.faulty_slack import FaultySlack  # noqa: PLC0415

        event_json = (EVENTS_DIR / "sns-alarm-cpu-high.json").read_text()
        try:
            previous_dir = previous.lambda_dir()
        except previous.PreviousReleaseMissing as exc:
            previous_dir = None
            self.rows.append(
                Row(f"Cold start, {previous.PREVIOUS_RELEASE}: not measured", str(exc))
            )
        with FaultySlack() as fake:
            result = cold_start.measure(
                self.zip_package().path,
                runs=5 if self.quick else 25,
                webhook_url=fake.url,
                event_json=event_json,
                previous_dir=previous_dir,
            )
        runs = f"median of {result.runs} fresh processes"
        self.rows += [
            Row(f"Cold start: import handler ({runs})", f"{result.handler_seconds * 1000:.1f} ms"),
            Row(
                "Cold start: import bare stdlib baseline",
                f"{result.baseline_seconds * 1000:.1f} ms",
            ),
            Row(
                "Cold start ratio handler / baseline",
                f"{result.ratio:.2f}",
                f"<= {COLD_START_RATIO_TARGET}",
                verdict(result.ratio <= COLD_START_RATIO_TARGET),
            ),
        ]
        if result.previous_seconds is not None and result.previous_ratio is not None:
            release = previous.PREVIOUS_RELEASE
            self.rows += [
                Row(
                    f"Cold start: import {release} handler (same runs)",
                    f"{result.previous_seconds * 1000:.1f} ms",
                ),
                Row(
                    f"Cold start ratio {release} handler / baseline", f"{result.previous_ratio:.2f}"
                ),
            ]
        if result.handler_first_seconds and result.baseline_first_seconds:
            first_ratio = result.handler_first_seconds / result.baseline_first_seconds
            self.rows += [
                Row(
                    "Cold path: import + first SNS alarm to local fake Slack, handler",
                    f"{result.handler_first_seconds * 1000:.1f} ms",
                ),
                Row(
                    "Cold path: import + first SNS alarm, bare baseline",
                    f"{result.baseline_first_seconds * 1000:.1f} ms",
                ),
                Row("Cold path ratio handler / baseline", f"{first_ratio:.2f}"),
            ]
        self.rows += [
            Row(
                "boto3 imported (webhook-URL path)",
                "yes" if result.boto3_imported else "no",
                "no",
                verdict(not result.boto3_imported),
            ),
        ]
        own = {name.removesuffix(".py") for name in self.zip_package().files}

        def listing(items: list[tuple[str, int]]) -> str:
            return ", ".join(f"{name} {us / 1000:.1f} ms" for name, us in items[:6]) or "none"

        extra = list(result.heaviest_extra_imports)
        self.notes.append(
            "Cold start: each module imported in `python -I -B` from a /var/task-like directory"
            " (the handler from the unpacked zip, compiled from source as on Lambda). Cumulative"
            " import time of the handler's own modules: "
            + listing([item for item in extra if item[0] in own])
            + "; stdlib modules the baseline does not import: "
            + listing([item for item in extra if item[0] not in own])
            + ". The handler defers urllib.request to its first delivery, so the cold-path rows"
            " (import + one SNS alarm posted to a local fake Slack, with json already loaded as"
            " the Lambda runtime has it) show where that cost lands."
        )

    def parse(self) -> None:
        micros = per_event.parse_format_micros(repeats=3 if self.quick else 9)
        self.rows += [
            Row(f"parse + format: {kind}", f"{value:.0f} µs/event")
            for kind, value in micros.items()
        ]

    def e2e(self) -> None:
        result = per_event.end_to_end(events=200 if self.quick else 1000, runs=3)
        label = f"over {result.events_per_run} events, median of {result.runs} processes"
        self.rows += [
            Row(f"Handler end to end, local fake Slack: p50 ({label})", f"{result.p50_ms:.2f} ms"),
            Row("Handler end to end, local fake Slack: p99", f"{result.p99_ms:.2f} ms"),
            Row(
                f"Peak RSS of a handler process after {result.events_per_run} events",
                f"{result.peak_rss_mib:.1f} MiB",
                f"< {RSS_TARGET_MIB} MB",
                verdict(result.peak_rss_mib < RSS_TARGET_MIB),
            ),
        ]
        if result.failures:
            self.notes.append(f"{result.failures} end-to-end invocations raised (no faults set).")

    def zip(self) -> None:
        package = self.zip_package()
        self.rows.append(
            Row(
                f"Deployment zip ({len(package.files)} files)",
                f"{package.size:,} bytes",
                f"< 80 KB ({ZIP_TARGET_BYTES:,} bytes)",
                verdict(package.size < ZIP_TARGET_BYTES),
            )
        )
        self.notes.append(
            "Zip built by the archive stand-in's own `collect_dir` + `write_zip`"
            f" (tests/support/archive_provider) over lambda/, {package.spec.origin}"
            f" {list(package.spec.excludes)}: {', '.join(package.files)}."
        )

    def plan(self) -> None:
        if not plan_scale.terraform_available():
            self.rows.append(Row("terraform plan: not measured", "terraform not on PATH"))
            self.failed = True
            return
        counts = (1, 10) if self.quick else (1, 10, 100)
        result = plan_scale.measure(counts, invocations=1 if self.quick else 3)
        for count, seconds in result.seconds.items():
            self.rows.append(
                Row(
                    f"terraform plan (mock aws), ec2_instances = {count} ({2 * count} alarms)",
                    f"{seconds:.1f} s",
                )
            )
        note = (
            "Plan time: one `command = plan` run block of `terraform test -json` (run start to"
            " end, after a warm-up run) in a bench-only root (build/bench/plan-scale) with a mocked"
            f" aws provider; median of {result.invocations} invocations. A whole"
            f" `terraform test` invocation with all {len(counts) + 1} runs took"
            f" {result.invocation_seconds:.1f} s."
        )
        if result.zip_path.is_file():
            fresh = package_size.build_package(BUILD_DIR / "lambda-recheck.zip")
            identical = result.zip_path.read_bytes() == fresh.path.read_bytes()
            note += (
                " The zip that the plan wrote is byte-identical to the stand-in build."
                if identical
                else " NOTE: the zip that the plan wrote differs from the stand-in build."
            )
        self.notes.append(note)

    def soak(self) -> None:
        result = soak.run(events=300 if self.quick else 2000)
        self.rows += [
            Row(
                f"Soak: alarm events, one invocation each ({result.requests:,} HTTP requests)",
                f"{result.events:,}",
            ),
            Row("Soak: delivered (at first invocation or on a retry)", f"{result.delivered:,}"),
            Row("Soak: delivered more than once", f"{result.delivered_more_than_once:,}"),
            Row("Soak: raised (kept for Lambda retry / failure queue)", f"{result.raised:,}"),
            Row(
                f"Soak: of those, delivered by Lambda's {result.lambda_retries} async retries",
                f"{result.delivered_by_lambda_retry:,}",
            ),
            Row("Soak: of those, left in the failure queue", f"{result.in_failure_queue:,}"),
            Row(
                "Soak: silently lost",
                f"{result.silently_lost:,}",
                "0",
                verdict(result.silently_lost == 0),
            ),
        ]
        if result.silently_lost:
            self.failed = True
            print(
                f"bench: FAIL: the soak silently lost {result.silently_lost} alarm(s):"
                f" {', '.join(result.lost_keys[:10])}",
                file=sys.stderr,
            )
        injected = ", ".join(f"{kind} {n}" for kind, n in result.faults.items())
        self.notes.append(
            f"Soak faults injected (requests): {injected}; invalid_payload is permanent per"
            " alarm, as real Slack rejects the same payload every time. Duplicates come from"
            " `slow` answers: Slack posted the message but answered after the client timeout,"
            " so the handler retried (a duplicate, never a loss). The handler runs through"
            f" `handle_event` with a {soak.CLIENT_TIMEOUT} s client timeout and recorded (not"
            " slept) retry waits; raised events are invoked again as Lambda's async retries"
            " would, without the delay."
        )

    def graph(self) -> None:
        use_repo_paths()
        from graph import MAX_GRAPHS_PER_DIGEST  # noqa: PLC0415

        cost = graph_cost.measure(runs=3 if self.quick else 9)
        self.rows += [
            Row(f"Graph widget JSON build: {shape}", f"{seconds * 1e6:.0f} µs/alarm")
            for shape, seconds in cost.widget_build.items()
        ]
        for delay, seconds in cost.added.items():
            self.rows.append(
                Row(
                    f"Graph added per alarm, widget call mocked at {delay * 1000:.0f} ms"
                    " (render + 3 upload calls to local fake Web API)",
                    f"{seconds * 1000:.0f} ms (ours: {(seconds - delay) * 1000:.0f} ms)",
                )
            )
        worst = max(cost.added.values())
        self.rows.append(
            Row(
                f"Storm digest: graphs for the first {MAX_GRAPHS_PER_DIGEST} alarms only, added",
                f"<= {worst * MAX_GRAPHS_PER_DIGEST:.1f} s",
            )
        )
        modules = graph_cost.webhook_path_modules()
        loaded = [name for name, imported in modules.items() if imported]
        self.rows.append(
            Row(
                "Webhook mode: graph / slack_files / boto3 imported by one alarm",
                ", ".join(loaded) or "none",
                "none",
                verdict(not loaded),
            )
        )
        self.notes.append(
            "Graph cost: post_graph end to end (median of"
            f" {cost.runs}) with GetMetricWidgetImage mocked by a sleep of"
            f" {', '.join(f'{d * 1000:.0f}' for d in graph_cost.ASSUMED_RENDER_SECONDS)} ms"
            " (an assumption: AWS publishes no latency figure) and a 30 KB image uploaded to the"
            " fake Slack Web API on loopback (files.getUploadURLExternal, POST, "
            "files.completeUploadExternal). Real Slack adds its own network time per call. The"
            " graph runs after the alarm's text was posted, so it never delays the text."
        )

    def storm(self) -> None:
        window = 2.0 if self.quick else storm.GROUP_WAIT_SECONDS
        for count in STORM_SIZES:
            grouped = storm.grouped(count, window=window)
            per_alarm = storm.per_alarm(count)
            for result in (grouped, per_alarm):
                path = (
                    f"grouped (inbox, {window:g} s window)"
                    if result is grouped
                    else "per alarm (direct mode)"
                )
                row = Row(f"Storm {count} alarm(s): {path}", _storm_cell(result))
                if result is grouped and count == STORM_TARGET_ALARMS:
                    ok = (
                        result.named == count
                        and result.messages <= STORM_TARGET_MESSAGES
                        and result.undelivered == 0
                    )
                    target = f"all named, <= {STORM_TARGET_MESSAGES} messages, 0 undelivered"
                    row = Row(row.figure, row.result, target, verdict(ok))
                if result is grouped and count == 1:
                    limit = window + STORM_LONE_ALARM_SLACK_SECONDS
                    ok = result.seconds_to_last_message <= limit
                    target = f"<= window + {STORM_LONE_ALARM_SLACK_SECONDS:g} s"
                    row = Row(row.figure, row.result, target, verdict(ok))
                self.rows.append(row)
                if row.verdict == "MISSED":
                    self.failed = True
        self.notes.append(
            "Storm: a fake Slack webhook enforcing 1 message/s with a burst of 5 (429 +"
            " Retry-After beyond it); every alarm a distinct alarm changing state within one"
            " second. Grouped: the event source mapping played with the module's defaults"
            f" ({storm.MAXIMUM_CONCURRENCY} concurrent invocations, batch size"
            f" {storm.BATCH_SIZE}, receive count {storm.MAX_RECEIVE_COUNT}, records split"
            " between the two invocations in SQS receive chunks of 10). Per alarm: one"
            " concurrent invocation per alarm and Lambda's two async retries. Waits between"
            " retries and redeliveries are compressed to a few seconds (see bench/storm.py)."
            " 'Undelivered' means left in the failure queue."
        )

    def chaos(self) -> None:
        versions = []
        try:
            versions.append((previous.PREVIOUS_RELEASE, previous.lambda_dir()))
        except previous.PreviousReleaseMissing as exc:
            self.rows.append(Row(f"Chaos, {previous.PREVIOUS_RELEASE}: not measured", str(exc)))
        versions.append(chaos.this_release())
        started = time.perf_counter()

        def progress(scenario: chaos.Scenario, outcomes: list[chaos.Outcome] | str) -> None:
            print(
                f"bench: chaos: {scenario.title} ({time.perf_counter() - started:.0f} s)",
                file=sys.stderr,
                flush=True,
            )

        for scenario, outcomes in chaos.run_all(versions, self.quick, progress):
            if isinstance(outcomes, str):
                self.failed = True
                self.rows.append(Row(f"Chaos: {scenario.title}: not measured", outcomes))
                continue
            self.rows += [
                Row(f"Chaos: {scenario.title}: {outcome.version}", chaos.cell(outcome))
                for outcome in outcomes
            ]
        self.notes.append(chaos.NOTE)


def _storm_cell(result: storm.StormResult) -> str:
    return (
        f"{result.messages} messages · {result.named}/{result.alarms} named ·"
        f" {result.rate_limited} x 429 · {result.undelivered} undelivered ·"
        f" last after {result.seconds_to_last_message:.1f} s"
    )


def main(argv: list[str]) -> int:
    """Run the selected sections, print the table, write build/bench.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true", help="print markdown, not text")
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help=f"comma-separated subset of {','.join(SECTIONS)}"
    )
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (development)")
    parser.add_argument(
        "--output", type=Path, default=BUILD_DIR.parent / "bench.md", help="markdown file"
    )
    args = parser.parse_args(argv)
    selected = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(selected) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")

    load_at_start = machine.load_average()
    bench = Bench(quick=args.quick)
    for name in SECTIONS:
        if name in selected:
            bench.section(name, getattr(bench, name))
    where = machine.describe(load_at_start)
    notes = "".join(f"\n- {note}" for note in bench.notes)
    markdown = render_markdown(bench.rows, where) + (
        "\n" + notes.lstrip("\n") + "\n" if notes else ""
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(markdown)
    if args.markdown:
        print(markdown, end="")
    else:
        print(render_text(bench.rows, where) + notes.replace("\n- ", "\n* ") + "\n", flush=True)
    try:
        shown = args.output.resolve().relative_to(REPO_ROOT)
    except ValueError:
        shown = args.output
    print(f"\nmarkdown table written to {shown}", file=sys.stderr)
    return 1 if bench.failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
