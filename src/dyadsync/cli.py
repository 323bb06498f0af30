"""Command line: ``dyadsync run VIDEO --codes FILE --out DIR [--pipeline TOML]``.

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


def _cmd_roi_preview(args: argparse.Namespace) -> int:
    from .features.persons import parse_rois, roi_preview
    from .pipeline import load_pipeline

    config = load_pipeline(args.pipeline)
    rois = parse_rois(config.persons.rois, config.persons.names, units=config.persons.roi_units)
    result = roi_preview(args.video, args.out, rois=rois, time_s=args.time, head_scale=config.face.head_scale)
    for name, found in result["persons"].items():
        head = found["head_region_px"]
        where = "no pose found: check that the ROI holds this person" if head is None else (
            f"head region centre ({head[0]:.0f}, {head[1]:.0f}) px, side {head[2]:.0f} px")
        print(f"{name}: ROI {found['roi_px']} px; {where}", file=sys.stderr)
    print(Path(result["path"]).resolve())
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

    preview = sub.add_parser(
        "roi-preview",
        help="write one annotated frame showing the persons' ROIs and head regions",
        description="Draw each person's region of interest (from --pipeline, default: left and right halves), the "
        "pose found in it and the head region the face stage would use, on one frame of VIDEO, and write it as a "
        "PNG. This is the only dyadsync output that contains a video frame: use it to set up ROIs for a new camera.",
    )
    preview.add_argument("video", type=Path, help="session video")
    preview.add_argument("--out", type=Path, required=True, help="PNG file to write")
    preview.add_argument("--pipeline", type=Path, help="pipeline TOML whose [persons] ROIs to draw")
    preview.add_argument("--time", type=float, help="time of the frame in seconds (default: middle of the video)")
    preview.set_defaults(func=_cmd_roi_preview)
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
