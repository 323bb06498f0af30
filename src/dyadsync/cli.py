"""Command line: ``dyadsync run VIDEO --codes FILE --out DIR [--pipeline TOML]`` and ``dyadsync mea INPUT...``.

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


def _pseudo_count(text: str) -> int | None:
    if text.lower() in ("all", "max"):
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of pseudo-dyads or 'all', got {text!r}") from None


def _cmd_mea(args: argparse.Namespace) -> int:
    from .pipeline.mea import MEAOptions, run_mea_batch

    def progress(msg: str) -> None:
        if not args.quiet:
            print(f"[dyadsync] {msg}", file=sys.stderr)

    options = MEAOptions(
        rate_hz=args.fps, window_s=args.window, step_s=args.step, max_lag_s=args.max_lag, rmea=args.rmea,
        signed=args.signed, fisher_z=not args.no_fisher_z, smooth_s=args.smooth, scale=args.scale, pseudo=args.pseudo,
        keep_roles=args.keep_roles, seed=args.seed, figures=not args.no_figures,
    )
    result = run_mea_batch(args.inputs, args.out, options, progress=progress)
    print((result.out_dir / "summary.csv").resolve())
    if len(result.failures):
        print(
            f"warning: {len(result.failures)} file(s) could not be analysed (the others were); "
            f"see {result.out_dir / 'failures.csv'}",
            file=sys.stderr,
        )
        return 1
    return 0


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

    mea = sub.add_parser(
        "mea",
        help="synchrony of existing MEA files (rMEA format), with pseudo-dyad surrogates",
        description="Windowed cross-lagged correlation of MEA files (two columns: person A, person B; rMEA "
        "format). INPUT are files or folders; a folder's name is the group of its dyads. Writes "
        "dyads/<dyad>.csv (windows x lags), summary.csv (one row per dyad), failures.csv, run.json, figures/, "
        "and with --pseudo also pseudo.csv and groups.csv. Exit status 1 when some files failed (the others "
        "are still analysed).",
    )
    mea.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="MEA file or folder of MEA files")
    mea.add_argument("--fps", type=float, required=True, help="frame rate the MEA files were computed at (Hz)")
    mea.add_argument("--window", type=float, default=60.0, help="window length in s (default 60)")
    mea.add_argument("--step", type=float, default=30.0, help="step between windows in s (default 30)")
    mea.add_argument("--max-lag", type=float, default=5.0, help="largest lag in s (default 5)")
    mea.add_argument("--rmea", action="store_true", help="rMEA 1.3.0's exact rules (MEAccf, MEAsmooth)")
    mea.add_argument("--signed", action="store_true", help="keep the sign of correlations (rMEA's ABS = FALSE)")
    mea.add_argument("--no-fisher-z", action="store_true",
                     help="Pearson r instead of Fisher's z (rMEA's r2Z = FALSE)")
    mea.add_argument("--smooth", type=float, default=0.0, metavar="S",
                     help="moving average of S seconds first (rMEA's MEAsmooth uses 0.5)")
    mea.add_argument("--scale", action="store_true", help="divide each series by its SD (rMEA's MEAscale)")
    mea.add_argument("--pseudo", type=_pseudo_count, default=0, metavar="N",
                     help="N pseudo-dyads (persons of different dyads paired), or 'all'")
    mea.add_argument("--keep-roles", action="store_true", help="pseudo-dyads pair only A with B")
    mea.add_argument("--seed", type=int, default=0, help="seed of the pseudo-dyad draw (default 0)")
    mea.add_argument("--no-figures", action="store_true", help="write no figures")
    mea.add_argument("--out", type=Path, required=True, help="output folder (created)")
    mea.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    mea.set_defaults(func=_cmd_mea)
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
