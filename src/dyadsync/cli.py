"""Command line: one subcommand per task.

* ``dyadsync run VIDEO --codes FILE... [--tier T...] [--code C...] --out DIR [--pipeline TOML]``: one session;
* ``dyadsync batch MANIFEST --out DIR``: many sessions, resumable;
* ``dyadsync export RUN_DIR [--into DIR]`` (or ``--batch OUT``): synchrony tiers and curves for ELAN and Praat;
* ``dyadsync voice MEDIA [--speakers channels|auto|FILE] --out DIR``: prosody and turns;
* ``dyadsync moments RUN_DIR... [--codes FILE...] --out DIR``: the moments statistics on finished runs;
* ``dyadsync mea INPUT... --out DIR``: synchrony of existing MEA files (rMEA-compatible);
* ``dyadsync roi-preview VIDEO --out PNG``: one annotated frame to check the persons' regions.

Errors the user can fix (a bad file, a bad parameter) print one clear line naming the file and the problem and
exit with status 2; warnings print as ``warning: ...`` lines.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .errors import DyadsyncError, DyadsyncWarning

EXIT_USER_ERROR = 2
EXIT_SESSIONS_FAILED = 1


def _show_warning(message: Warning | str, category: type[Warning], *args: object, **kwargs: object) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _cmd_run(args: argparse.Namespace) -> int:
    from .pipeline import run_session

    def progress(msg: str) -> None:
        if not args.quiet:
            print(f"[dyadsync] {msg}", file=sys.stderr)

    result = run_session(args.video, args.out, codes=args.codes, pipeline=args.pipeline, progress=progress,
                         absolute_paths=args.absolute_paths, tiers=args.tier, only_codes=args.code)
    print(result.report.resolve() if result.report.exists() else result.out_dir.resolve())
    return 0


def _cmd_voice(args: argparse.Namespace) -> int:
    from .features.voice import analyse_voice
    from .io.store import write_csv, write_json, write_parquet

    speakers = args.speakers if args.speakers in ("channels", "auto") else Path(args.speakers)
    result = analyse_voice(args.media, speakers=speakers, persons=args.persons, audio=args.audio,
                           channels=args.channels)
    out = Path(args.out)
    write_parquet(result.prosody, out / "prosody.parquet")
    write_csv(result.turns.round(4), out / "turns.csv")
    write_json({"media": str(args.media), **result.info}, out / "voice.json")
    if not args.quiet:
        n = ", ".join(f"{p}: {k}" for p, k in result.info["n_turns"].items())
        print(f"[dyadsync] {len(result.turns)} turns ({n}); wrote prosody.parquet, turns.csv, voice.json",
              file=sys.stderr)
    print(out.resolve())
    return 0


def _cmd_batch(args: argparse.Namespace) -> int:
    from .pipeline.batch import run_batch

    result = run_batch(
        args.manifest,
        args.out,
        pipeline=args.pipeline,
        glob=args.glob,
        workers=args.workers,
        scheduler=args.scheduler,
        dask_local=args.dask_local,
        retry_failed=args.retry_failed,
        quiet=args.quiet,
        tiers=args.tier,
        only_codes=args.code,
    )
    r = result.record
    print(
        f"{r['n_sessions']} session(s): {r['n_done']} processed, {r['n_skipped']} already complete, "
        f"{r['n_failed']} failed ({r['engine']})",
        file=sys.stderr,
    )
    if result.failed:
        print(f"failures: {(result.out_dir / 'failures.csv').resolve()}", file=sys.stderr)
    print(result.report.resolve())
    return EXIT_SESSIONS_FAILED if result.failed else 0


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


def _cmd_roi_preview(args: argparse.Namespace) -> int:
    from .features import parse_rois, roi_preview
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


def _cmd_moments(args: argparse.Namespace) -> int:
    from .pipeline.layout import MOMENTS_FILES
    from .pipeline.moments_runs import analyse_runs

    def progress(msg: str) -> None:
        if not args.quiet:
            print(f"[dyadsync] {msg}", file=sys.stderr)

    batch = analyse_runs(args.run_dirs, args.out, codes=args.codes, dial=args.dial, raters=args.raters,
                         dyads=args.dyads, pipeline=args.pipeline,
                         csv=args.csv, report=not args.no_report, max_session_figures=args.session_figures,
                         progress=progress, tiers=args.tier, only_codes=args.code)
    failed = (batch.sessions["status"] != "ok").sum()
    report = Path(args.out) / MOMENTS_FILES["report"]
    print(report.resolve() if report.exists() and not args.no_report else Path(args.out).resolve())
    return 1 if failed else 0


def _command(sub: Any, func: Any, name: str, *, help: str, description: str, out: str | None = "output folder (created)",
             quiet: str | None = "no progress messages") -> argparse.ArgumentParser:
    """A subcommand running ``func``, with the ``--out`` and ``-q`` options most commands share (None: without)."""
    parser = sub.add_parser(name, help=help, description=description)
    parser.set_defaults(func=func)
    if out:
        parser.add_argument("--out", type=Path, required=True, help=out)
    if quiet:
        parser.add_argument("-q", "--quiet", action="store_true", help=quiet)
    return parser


def _cmd_export(args: argparse.Namespace) -> int:
    from .errors import ConfigError
    from .pipeline.export import export_batch, export_run

    if (args.run_dir is None) == (args.batch is None):
        raise ConfigError("dyadsync export: give a RUN_DIR or --batch OUT (one of them)")
    if args.batch is not None:
        if args.eaf or args.new_eaf or args.video:
            raise ConfigError("dyadsync export: --eaf, --new-eaf and --video apply to one RUN_DIR, not to --batch")
        results, failures = export_batch(args.batch, into=args.into)
        print(f"{len(results)} session(s) exported, {len(failures)} failed", file=sys.stderr)
        for r in results:
            print(r.eaf.resolve())
        return EXIT_SESSIONS_FAILED if failures else 0
    result = export_run(args.run_dir, into=args.into, eaf=args.eaf, new_eaf=args.new_eaf, video=args.video)
    if not args.quiet:
        print(f"[dyadsync] wrote {', '.join(p.name for p in result.files.values())} to {result.out_dir}",
              file=sys.stderr)
    print(result.eaf.resolve())
    return 0


def _add_selection(parser: argparse.ArgumentParser) -> None:
    """``--tier`` and ``--code``: which tiers are read and which codes analysed."""
    parser.add_argument("--tier", nargs="+", action="extend", metavar="TIER",
                        help="read only these ELAN/TextGrid tiers (default: every tier except those that look like "
                        "free text, such as notes, which are left out with a warning); replaces [moments] tiers")
    parser.add_argument("--code", nargs="+", action="extend", metavar="CODE",
                        help="analyse only these codes (default: every code read); replaces [moments] codes")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``dyadsync`` command, one subcommand per task."""
    parser = argparse.ArgumentParser(
        prog="dyadsync",
        description="Therapist-patient synchrony from session video, and its relation to coded moments.",
    )
    parser.add_argument("--version", action="version", version=f"dyadsync {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = _command(sub, _cmd_run,
        "run",
        help="run a pipeline on one session video",
        description="Extract features from VIDEO, compute synchrony, relate it to the coded moments in --codes, "
        "and write features.parquet, synchrony.parquet, moments.parquet, report.html and run.json to --out.",
    )
    run.add_argument("video", type=Path, help="session video (static camera, two persons)")
    run.add_argument("--codes", type=Path, nargs="+", metavar="FILE",
                     help="coded events: CSV/TSV (seconds or mm:ss), ELAN .eaf, Praat TextGrid, BORIS export; several "
                     "files are several coders (a file that names no coder is coded by its file name)")
    _add_selection(run)
    run.add_argument("--pipeline", type=Path, help="pipeline TOML (default: the built-in body_mea pipeline)")
    run.add_argument("--absolute-paths", action="store_true",
                     help="record the inputs' absolute paths in run.json and the report (default: relative to --out)")

    voice = _command(sub, _cmd_voice,
        "voice",
        help="prosody per person and the turn table of a session's sound",
        description="Attribute speech to the two persons, then write per-frame prosody (prosody.parquet: f0, "
        "intensity, voicing at 100 Hz per person), one row per turn (turns.csv) and voice.json to --out.",
    )
    voice.add_argument("media", type=Path, help="session video or audio file (any format FFmpeg reads)")
    voice.add_argument("--speakers", default="channels",
                       help="'channels' (one channel per person, default), 'auto' (one mixed channel), or a turn "
                       "annotation file (RTTM, ELAN .eaf, TextGrid, CSV) whose codes name the persons")
    voice.add_argument("--audio", type=Path, help="separate audio file to use instead of MEDIA's sound track")
    voice.add_argument("--persons", nargs=2, default=["left", "right"], metavar=("A", "B"),
                       help="names of person A and B (default: left right)")
    voice.add_argument("--channels", nargs=2, type=int, default=[0, 1], metavar=("CH_A", "CH_B"),
                       help="channel of A and of B for --speakers channels (default: 0 1)")

    batch = _command(sub, _cmd_batch,
        "batch",
        help="run a pipeline on every session of a manifest (resumable)",
        description="Process every session named by MANIFEST (a CSV or TOML manifest, or a folder of videos) into "
        "--out: one folder per session, a dataset across sessions, sessions.csv, failures.csv and "
        "batch_report.html. Rerunning resumes: complete sessions are skipped. Exit status 1 when a session failed.",
        out="batch output folder (created)", quiet="one line per session instead of progress bars",
    )
    batch.add_argument("manifest", type=Path, help="manifest (.csv or .toml) or a folder of videos")
    batch.add_argument("--pipeline", type=Path, help="default pipeline TOML for sessions that name none")
    batch.add_argument("--glob", default="*.mp4", help="video pattern when MANIFEST is a folder (default *.mp4)")
    batch.add_argument("--workers", type=int, help="sessions at once on this machine (default: all cores)")
    engine = batch.add_mutually_exclusive_group()
    engine.add_argument("--scheduler", metavar="ADDRESS", help="run on an existing Dask cluster (tcp://host:8786)")
    engine.add_argument("--dask-local", type=int, metavar="N", help="start a local Dask cluster of N workers")
    batch.add_argument("--retry-failed", action="store_true", help="retry sessions that failed in an earlier run")
    _add_selection(batch)

    mea = _command(sub, _cmd_mea,
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

    preview = _command(sub, _cmd_roi_preview,
        "roi-preview",
        help="write one annotated frame showing the persons' ROIs and head regions",
        description="Draw each person's region of interest (from --pipeline, default: left and right halves), the "
        "pose found in it and the head region the face stage would use, on one frame of VIDEO, and write it as a "
        "PNG. This is the only dyadsync output that contains a video frame: use it to set up ROIs for a new camera.",
        out="PNG file to write", quiet=None,
    )
    preview.add_argument("video", type=Path, help="session video")
    preview.add_argument("--pipeline", type=Path, help="pipeline TOML whose [persons] ROIs to draw")
    preview.add_argument("--time", type=float, help="time of the frame in seconds (default: middle of the video)")

    moments = _command(sub, _cmd_moments,
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
    moments.add_argument("--dyads", nargs="+", metavar="LABEL",
                         help="dyad of each run folder, in order (sessions of one dyad share a label); default: "
                         "each folder its own dyad")
    moments.add_argument("--pipeline", type=Path,
                         help="pipeline TOML whose [moments] section replaces the runs' moments parameters")
    _add_selection(moments)
    moments.add_argument("--csv", action="store_true", help="also write every table as CSV")
    moments.add_argument("--no-report", action="store_true", help="write the tables only, no moments_report.html")
    moments.add_argument("--session-figures", type=int, default=6, metavar="N",
                         help="draw each session's figures in the report only up to N sessions (default 6)")

    export = _command(sub, _cmd_export,
        "export",
        help="write a run's synchrony peaks, episodes and curves for review in ELAN and Praat",
        description="Write, into RUN_DIR/review/ (or --into a folder that does not exist yet): a copy of the coder's "
        "ELAN file (the run's .eaf codes, or --eaf) with added tiers per feature (synchrony peaks, episodes, who "
        "leads), every original tier, type and vocabulary kept; the synchrony and feature series as ELAN "
        "time-series tracks (CSV and _tsconf.xml, linked from the .eaf); a Praat TextGrid; export.json. The "
        "coder's file is never replaced. See docs/review_in_elan.md.",
        out=None,
    )
    export.add_argument("run_dir", type=Path, nargs="?", metavar="RUN_DIR", help="folder written by `dyadsync run`")
    export.add_argument("--batch", type=Path, metavar="OUT", help="export every finished session of this batch folder")
    export.add_argument("--into", type=Path, metavar="DIR",
                        help="write into this new folder (it must not exist; with --batch: one subfolder per session)")
    export.add_argument("--eaf", type=Path, metavar="FILE", help="the ELAN file to copy (default: the run's .eaf codes)")
    export.add_argument("--new-eaf", action="store_true",
                        help="write a new ELAN file with the run's codes instead of copying the coder's")
    export.add_argument("--video", type=Path, help="the session video, when it is no longer where the run found it")
    return parser


def _one_line(message: str) -> str:
    """A message as one line (line breaks of a message made elsewhere become ``; ``)."""
    return "; ".join(part.strip() for part in message.splitlines() if part.strip())


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``dyadsync`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    warnings.showwarning = _show_warning
    warnings.simplefilter("always", DyadsyncWarning)
    try:
        return int(args.func(args))
    except DyadsyncError as exc:
        print(f"error: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as exc:  # the system refused something (a full disk, a permission): say what and where
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
