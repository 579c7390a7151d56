"""``make bench``: the gateway against hand-written references, on loopback, in one run.

    python -m bench.run [all|throughput|peers|dispatch|derived|login|startup] [--seconds N]

Every server runs under uvicorn with one worker, pinned to one core (``taskset -c 0``); wrk
is pinned to the other (``taskset -c 1``), and so is this script. Targets are measured in
alternating rounds and compared as ratios of medians from the same run, because the machine is
shared and its speed drifts from minute to minute.

Why wrk runs one thread and 16 connections: wrk has one core, and a second thread there would
only add context switches. One single-threaded server is saturated by far fewer than 16
requests in flight (wrk answers a response in microseconds; 16 gave the raw ASGI app the same
requests/s as 32), so more connections add nothing but queueing to the latencies. Worse, each
wrk run opens its connections at once, and a busy uvicorn lets them in about one per pass over
the connections it already serves: with 32, the last first requests of a run waited up to
~230 ms at R2 (seen in the app), and p99 measured that ramp, not the steady state.

Sections (``all`` runs them in this order):

- throughput: R0, R1, R2, G and G-nolog on one authenticated GET (see ``throughput.py``);
- peers:      ``/users/me`` from the database: the gateway, hand-written FastAPI and the peer
              libraries, on SQLite and PostgreSQL (see ``libraries.py``);
- dispatch:   ``/apiv50`` against ``/apiv1`` on a gateway with 50 versions;
- derived:    a derived version and a chain of two against their successor;
- login:      ``/healthz`` p99 under a login burst, token issues against the argon2 bound;
- startup:    start-up time and memory with 50 versions against 2.

Settings, as flags or ``BENCH_*`` variables: SECONDS (one wrk run, default 5), ROUNDS
(throughput, 5), SECTION_ROUNDS (peers, dispatch and login, 3), STARTS (3), CONNECTIONS (16),
WARMUP (2), SERVER_CPU (0), CLIENT_CPU (1); ``BENCH_POSTGRESQL_URL`` names the PostgreSQL
server of the peers section. The report goes to ``bench/results/latest.md``, with
``throughput.png`` and ``peers.png``; a run of ``all`` also writes ``docs/bench.md``,
``docs/bench-throughput.png`` and ``docs/bench-peers.png``. Missed targets are reported, never
a failure: the exit status is non-zero only when the benchmark itself could not run.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from bench import derived, dispatch, libraries, login, report, startup, throughput
from bench.harness import COUNTS, Config, Harness
from bench.processes import BenchError, require_cores, require_tools

SECTIONS: dict[str, Callable[[Harness], report.Section]] = {
    "throughput": throughput.run,
    "peers": libraries.run,
    "dispatch": dispatch.run,
    "derived": derived.run,
    "login": login.run,
    "startup": startup.run,
}
SETTINGS = COUNTS  # the settings a flag can give


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("section", nargs="?", default="all", choices=["all", *SECTIONS])
    for name in SETTINGS:
        default = Config.__dataclass_fields__[name].default
        parser.add_argument(
            f"--{name.replace('_', '-')}",
            type=int,
            metavar="N",
            help=f"default ${'BENCH_' + name.upper()} or {default}",
        )
    return parser.parse_args(argv)


def command_line(argv: Sequence[str]) -> str:
    """How this run was asked for, for the report: ``BENCH_SECONDS=10 make bench``."""
    env = [
        f"{key}={shlex.quote(value)}"
        for key, value in sorted(os.environ.items())
        if key.startswith("BENCH_") and key != "BENCH_ARGS"
    ]
    if os.environ.get("MAKELEVEL"):
        args = [f"BENCH_ARGS={shlex.quote(' '.join(argv))}"] if argv else []
        return " ".join([*env, "make bench", *args])
    return " ".join([*env, "python -m bench.run", *map(shlex.quote, argv)])


def _exit_on_signal(number: int, frame: FrameType | None) -> None:
    # SystemExit unwinds every ``with``: the servers are stopped and the temporary files go.
    print(f"bench: stopped by {signal.Signals(number).name}; stopping servers", file=sys.stderr)
    raise SystemExit(128 + number)


def measure(config: Config, chosen: Sequence[str]) -> list[report.Section]:
    with tempfile.TemporaryDirectory(prefix="gateway-bench-") as tmp:
        harness = Harness(config, Path(tmp))
        return [SECTIONS[name](harness) for name in chosen]


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse(argv)
    try:
        config = Config.from_environment({name: getattr(args, name) for name in SETTINGS})
        require_tools()
        require_cores(config.server_cpu, config.client_cpu)
    except BenchError as error:
        print(f"bench: error: {error}", file=sys.stderr)
        return 2
    os.sched_setaffinity(0, {config.client_cpu})  # this script waits with wrk, not the server
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGHUP, _exit_on_signal)
    started = datetime.now(UTC)
    chosen = list(SECTIONS) if args.section == "all" else [args.section]
    try:
        sections = measure(config, chosen)
    except BenchError as error:
        print(f"bench: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted; every server it started is stopped", file=sys.stderr)
        return 130
    head = report.header(config, command_line(argv), started)
    subtitle = (
        f"{started:%Y-%m-%d}, {report.cpu_model()}, server on 1 core, "
        f"wrk 1 thread x {config.connections} connections"
    )
    written = report.write(head, sections, subtitle, docs=args.section == "all")
    print(report.render(head, sections))
    for path in written:
        print(f"wrote {path.relative_to(report.REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
