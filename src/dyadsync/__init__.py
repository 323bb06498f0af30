"""dyadsync: therapist-patient synchrony from session video, and its relation to coded moments of meeting.

Subpackages
-----------
io         video, audio, coded events, MEA files, atomic output files
features   per-person features: motion energy, MediaPipe pose and face, voice (prosody, turns, speaker attribution)
preprocess common time grid, artefact masking, smoothing, scaling
synchrony  windowed cross-lagged correlation and its summaries
moments    synchrony around coded events (event-locked averages against surrogates)
report     figures and a self-contained HTML report
pipeline   session runner driven by a TOML pipeline definition
simulate   dyads with known ground truth (tests, docs, benchmarks, the bundled sample)

``import dyadsync`` stays light: MediaPipe, librosa, OpenCV, PyAV and Dask load only in the functions that use
them.
"""

__version__ = "0.1.0"

from .errors import (  # noqa: E402
    AnalysisError,
    ConfigError,
    DyadsyncError,
    DyadsyncWarning,
    EventsError,
    InputError,
    ManifestError,
    MEAFileError,
    NoAudioError,
    VideoError,
)

__all__ = [
    "AnalysisError",
    "ConfigError",
    "DyadsyncError",
    "DyadsyncWarning",
    "EventsError",
    "InputError",
    "MEAFileError",
    "ManifestError",
    "NoAudioError",
    "VideoError",
    "__version__",
]
