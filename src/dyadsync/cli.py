"""Command line: ``dyadsync run VIDEO --codes FILE --out DIR [--pipeline TOML]`` and
``dyadsync moments RUN_DIR... [--codes FILE...] --out DIR``.

Errors the user can fix (a bad file, a bad parameter) print one clear line naming the file and the problem and
exit with status 2; warnings print as ``warning: ...`` lines.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .errors import DyadsyncError, DyadsyncWarning

EXIT_USER_ERROR = 2


def _show_warning(message: Warning | str, category: type[Warning], *args: object, **kwargs: object) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _cmd_run(args: argparse.Namespace) -> int:
    from .pipeline import run_session

    def progress(msg: str) -> None:
        if not args.quiet:
            print(f"[dyadsync] {msg}", file=sys.stderr)

    result = run_session(args.video, args.out, codes=args.codes, pipeline=args.pipeline, progress=progress)
    print(result.report.resolve() if result.report.exists() else result.out_dir.resolve())
    return 0


def _cmd_moments(args: argparse.Namespace) -> int:
    from .moments.runs import BATCH_OUTPUTS, analyse_runs

    def progress(msg: str) -> None:
        if not args.quiet:
            print(f"[dyadsync] {msg}", file=sys.stderr)

    batch = analyse_runs(args.run_dirs, args.out, codes=args.codes, dial=args.dial, raters=args.raters,
                         dyads=args.dyads, pipeline=args.pipeline,
                         csv=args.csv, report=not args.no_report, max_session_figures=args.session_figures,
                         progress=progress)
    failed = (batch.sessions["status"] != "ok").sum()
    report = Path(args.out) / BATCH_OUTPUTS["report"]
    print(report.resolve() if report.exists() and not args.no_report else Path(args.out).resolve())
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``dyadsync`` command, one subcommand per task."""
    parser = argparse.ArgumentParser(
        prog="dyadsync",
        description="Therapist-patient synchrony from session video, and its relation to coded moments.",
    )
    parser.add_argument("--version", action="version", version=f"dyadsync {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser(
        "run",
        help="run a pipeline on one session video",
        description="Extract features from VIDEO, compute synchrony, relate it to the coded moments in --codes, "
        "and write features.parquet, synchrony.parquet, moments.parquet, report.html and run.json to --out.",
    )
    run.add_argument("video", type=Path, help="session video (static camera, two persons)")
    run.add_argument("--codes", type=Path, help="coded events: CSV (seconds or mm:ss) or ELAN .eaf")
    run.add_argument("--out", type=Path, required=True, help="output folder (created)")
    run.add_argument("--pipeline", type=Path, help="pipeline TOML (default: the built-in body_mea pipeline)")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    run.set_defaults(func=_cmd_run)

    moments = sub.add_parser(
        "moments",
        help="test synchrony around coded moments in finished runs (one or many sessions)",
        description="Read finished run folders (written by `dyadsync run`), their coded moments and run every "
        "moments analysis (event-locked average with bands and cluster test, PRE/DURING/POST epochs against random "
        "epochs, synchrony peaks, peak/event matching, event coincidence, comparisons, coder agreement), then "
        "combine sessions across dyads (Stouffer, epoch-level mixed model, FDR). Writes tidy tables, "
        "moments_report.html and moments_run.json to --out. Exit status 1 when a session failed (the others "
        "still finish), 2 for a usage error.",
    )
    moments.add_argument("run_dirs", type=Path, nargs="+", metavar="RUN_DIR", help="folders written by `dyadsync run`")
    moments.add_argument("--codes", nargs="+", metavar="FILE",
                         help="coded events per run folder, in order (CSV, ELAN .eaf, Praat TextGrid, BORIS); "
                         "several coders' files of one session joined by commas (or, with one run folder, listed); "
                         "default: each run's events.parquet")
    moments.add_argument("--dial", nargs="+", metavar="FILE",
                         help="continuous dial ratings per run folder, in order (CSV: time and one column per rater): "
                         "their congruence, high/low segments (analysed as events) and relation to synchrony")
    moments.add_argument("--raters", nargs=2, default=["client", "therapist"], metavar=("A", "B"),
                         help="the two raters' columns in the dial files (default: client therapist)")
    moments.add_argument("--out", type=Path, required=True, help="output folder (created)")
    moments.add_argument("--dyads", nargs="+", metavar="LABEL",
                         help="dyad of each run folder, in order (sessions of one dyad share a label); default: "
                         "each folder its own dyad")
    moments.add_argument("--pipeline", type=Path,
                         help="pipeline TOML whose [moments] section replaces the runs' moments parameters")
    moments.add_argument("--csv", action="store_true", help="also write every table as CSV")
    moments.add_argument("--no-report", action="store_true", help="write the tables only, no moments_report.html")
    moments.add_argument("--session-figures", type=int, default=6, metavar="N",
                         help="draw each session's figures in the report only up to N sessions (default 6)")
    moments.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    moments.set_defaults(func=_cmd_moments)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``dyadsync`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    warnings.showwarning = _show_warning
    warnings.simplefilter("always", DyadsyncWarning)
    try:
        return int(args.func(args))
    except DyadsyncError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
