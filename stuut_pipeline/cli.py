"""The `stuut-pipeline` command line."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading


def _serve(args: argparse.Namespace) -> int:
    from .simulator import FaultConfig, SimulatorServer, StuutSimulator
    from .simulator.generator import GeneratorConfig

    faults = FaultConfig.with_rate(
        args.fault_rate,
        latency_ms=args.latency_ms,
        retry_after_s=args.retry_after,
        drift_inserts=args.drift_inserts,
        rate_html=args.html_rate,
        rate_reset=args.reset_rate,
        rate_trickle=args.trickle_rate,
        trickle_delay_s=args.trickle_delay,
        omit_retry_after=args.no_retry_after,
        next_page_cycle_to=args.next_page_cycle_to,
        total_records_offset=args.total_records_offset,
        empty_page=args.empty_page,
        empty_page_times=args.empty_page_times,
        hostile_fraction=args.hostile_fraction,
    )
    token = args.token or StuutSimulator.random_token()
    print(f"generating {args.calls} calls over {args.workflows} workflows (seed {args.seed})...")
    simulator = StuutSimulator(
        GeneratorConfig(
            seed=args.seed, n_workflows=args.workflows, schema_drift_share=args.schema_drift
        ),
        n_calls=args.calls,
        token=token,
        faults=faults,
    )
    server = SimulatorServer(simulator, host=args.host, port=args.port)
    print(f"Stuut API simulator serving {server.url}/v1/calls", flush=True)
    print(f"  token: {token}", flush=True)
    print(f"  workflows: {', '.join(simulator.store.workflow_ids())}", flush=True)
    print(f"  export STUUT_API_BASE_URL={server.url} STUUT_API_TOKEN={token}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server.start()
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def _smoke(args: argparse.Namespace) -> int:
    from .raw_landing import Quarantined, key_or_quarantine
    from .settings import ApiSettings, FetchSettings, make_client
    from .stuut_api import CallsQuery
    from .stuut_api.discovery import scan_workflows

    fetch_settings = FetchSettings(concurrency=args.concurrency)
    with make_client(ApiSettings.from_env(), fetch_settings) as client:
        scan = scan_workflows(client)
        print(
            f"scanned {scan.calls_scanned} calls in {scan.pages_scanned} pages:"
            f" {len(scan.workflows)} workflows, {scan.calls_without_workflow} calls with none,"
            f" {scan.calls_unreadable} unreadable"
        )
        for workflow_id, name in sorted(scan.workflows.items()):
            query = CallsQuery(limit=fetch_settings.page_size, workflow=workflow_id)
            fetch = client.fetch_calls(query, decode=key_or_quarantine)
            unkeyable = sum(
                isinstance(r.record, Quarantined) for page in fetch for r in page.records
            )
            r = fetch.report
            print(
                f"  {workflow_id} ({name}): {r.records} calls ({unkeyable} without a usable id),"
                f" {r.pages} pages, {r.retries} retries, total_records matched:"
                f" {r.total_records_matched}"
            )
    return 0


def _run(args: argparse.Namespace) -> int:
    from .runner import WorkflowBusyError, run

    try:
        outcomes = run(args.workflow or None)
    except WorkflowBusyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 75  # EX_TEMPFAIL: try again later
    except KeyboardInterrupt:
        print("interrupted: the run in progress was stopped and marked failed", file=sys.stderr)
        return 130
    return 0 if outcomes and all(o.success for o in outcomes) else 1


def _partitions(args: argparse.Namespace) -> int:
    from .layout import InvalidWorkflowIdError
    from .runner import add_partitions, list_partitions

    if args.partitions_command == "add":
        try:
            new = add_partitions(args.workflow_ids)
        except InvalidWorkflowIdError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"added {len(new)} workflow partitions: {', '.join(new) or '(all were known)'}")
    else:
        for key in list_partitions():
            print(key)
    return 0


def _docs(args: argparse.Namespace) -> int:
    from .warehouse.dictionary import write_data_dictionary

    print(f"wrote {write_data_dictionary(args.root)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `stuut-pipeline`."""
    parser = argparse.ArgumentParser(prog="stuut-pipeline", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    sim = sub.add_parser("simulator", help="the Stuut API simulator")
    sim_sub = sim.add_subparsers(dest="sim_command", required=True)
    serve = sim_sub.add_parser("serve", help="serve the simulated API over HTTP on loopback")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--calls", type=int, default=1000, help="number of calls")
    serve.add_argument("--workflows", type=int, default=3, help="number of outreach workflows")
    serve.add_argument("--seed", type=int, default=0)
    serve.add_argument("--token", help="bearer token to accept (default: a random one, printed)")
    serve.add_argument("--latency-ms", type=float, default=0.0, help="added latency per request")
    serve.add_argument(
        "--fault-rate",
        type=float,
        default=0.0,
        help="share of requests failing transiently (split over 429, 500, truncated body)",
    )
    serve.add_argument("--retry-after", type=float, default=1.0, help="Retry-After of 429s, s")
    serve.add_argument(
        "--drift-inserts", type=int, default=0, help="new calls inserted while clients page"
    )
    serve.add_argument(
        "--schema-drift",
        type=float,
        default=0.0,
        help="share of calls with unknown enum values and extra fields",
    )
    hostile = serve.add_argument_group("a misbehaving API (issue 14)")
    hostile.add_argument(
        "--html-rate", type=float, default=0.0, help="share of 200s with an HTML body"
    )
    hostile.add_argument(
        "--reset-rate", type=float, default=0.0, help="share of connections reset mid-body"
    )
    hostile.add_argument(
        "--trickle-rate", type=float, default=0.0, help="share of bodies sent slowly"
    )
    hostile.add_argument(
        "--trickle-delay", type=float, default=0.5, help="pause before each 512-byte chunk, s"
    )
    hostile.add_argument(
        "--no-retry-after", action="store_true", help="429s without a Retry-After header"
    )
    hostile.add_argument(
        "--next-page-cycle-to",
        type=int,
        metavar="PAGE",
        help="the last page's next_page points back to PAGE (a cycle)",
    )
    hostile.add_argument(
        "--total-records-offset",
        type=int,
        default=0,
        metavar="N",
        help="total_records lies by N (negative: fewer than exist)",
    )
    hostile.add_argument(
        "--empty-page", type=int, metavar="PAGE", help="PAGE comes back with no records"
    )
    hostile.add_argument(
        "--empty-page-times",
        type=int,
        default=1,
        metavar="N",
        help="...the first N times it is asked for (default 1)",
    )
    hostile.add_argument(
        "--hostile-fraction",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="share of calls served as hostile JSON (lone surrogates, no id, wrong types, ...)",
    )
    serve.set_defaults(func=_serve)

    run = sub.add_parser(
        "run",
        help="discover workflows (or take --workflow), register them and materialise the whole"
        " graph for each through Dagster",
    )
    run.add_argument("--workflow", action="append", help="a workflow id (repeatable)")
    run.set_defaults(func=_run)

    partitions = sub.add_parser("partitions", help="the `workflow` partitions of the instance")
    partitions_sub = partitions.add_subparsers(dest="partitions_command", required=True)
    add = partitions_sub.add_parser("add", help="add workflow ids as partitions by hand")
    add.add_argument("workflow_ids", nargs="+", metavar="WORKFLOW_ID")
    partitions_sub.add_parser("list", help="list the registered workflow ids")
    partitions.set_defaults(func=_partitions)

    smoke = sub.add_parser("smoke", help="fetch every call once and count them per workflow")
    smoke.add_argument("--concurrency", type=int, default=4)
    smoke.set_defaults(func=_smoke)

    docs = sub.add_parser("docs", help="generated documentation")
    docs_sub = docs.add_subparsers(dest="docs_command", required=True)
    dictionary = docs_sub.add_parser(
        "data-dictionary", help="write docs/data-dictionary.md from the contracts and examples"
    )
    dictionary.add_argument("--root", default=".", help="repository root (default: .)")
    dictionary.set_defaults(func=_docs)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `stuut-pipeline` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
