"""The one exception hierarchy of dyadsync.

Every error dyadsync raises on purpose derives from :class:`DyadsyncError`, so a batch runner can catch it,
record the message for the failed session and go on with the others. Messages say what was wrong, with which
file (and row or time where there is one), and what to do about it.
"""

from __future__ import annotations

from pathlib import Path


class DyadsyncError(Exception):
    """Root of all errors raised by dyadsync."""


class InputError(DyadsyncError):
    """An input file (video, audio, codes, MEA file) is missing, unreadable, malformed or inconsistent.

    Parameters
    ----------
    path : str or Path or None
        The file at fault; its name starts the message.
    problem : str
        What is wrong with it and, where possible, what to do.
    """

    def __init__(self, path: str | Path | None, problem: str) -> None:
        self.path = None if path is None else Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path is not None else problem)


class VideoError(InputError):
    """A video cannot be opened, is corrupt or truncated, or has no usable video stream."""


class NoAudioError(InputError):
    """A media file has no audio stream, or only silence where speech was expected."""


class EventsError(InputError):
    """A coded-events file is malformed: unknown columns, unreadable times, events outside the recording."""


class MEAFileError(InputError):
    """An MEA file (rMEA text format) is malformed."""


class ManifestError(InputError):
    """A batch manifest is unreadable or names sessions that cannot run (all problems listed at once)."""


class ConfigError(DyadsyncError):
    """A pipeline definition or a parameter is invalid (unknown key, wrong type, value out of range)."""


class AnalysisError(DyadsyncError):
    """An analysis cannot be computed from the data given (too short, too few events, all missing)."""


class DyadsyncWarning(UserWarning):
    """Warnings about data quality: artefacts, gaps, events near edges, resampling that was done."""
