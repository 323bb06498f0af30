"""The application: sessions, batches, caching, the run-folder layout, and reading finished runs back.

>>> from dyadsync.pipeline import run_session, run_batch, analyse_runs, load_run, load_pipeline

* :func:`run_session` (``dyadsync run``): one video through a TOML pipeline (``pipelines/``) into a run folder.
* :func:`run_batch` (``dyadsync batch``): many sessions, resumable, on local processes or a Dask cluster.
* :func:`analyse_runs` (``dyadsync moments``): the moments analyses again on finished runs, across dyads.
* :func:`run_mea_batch` (``dyadsync mea``): existing MEA files through the synchrony engine.
* :func:`analyse_features`: synchrony and moments of any long feature table, as a session run computes them.
* :mod:`~dyadsync.pipeline.layout`: every output file name, :func:`load_run` and :func:`read_dataset`.
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "PipelineConfig": ".config",
    "config_from_dict": ".config",
    "load_pipeline": ".config",
    "RUN_FILES": ".layout",
    "RunData": ".layout",
    "load_run": ".layout",
    "read_dataset": ".layout",
    "SessionResult": ".session",
    "run_session": ".session",
    "Analysis": ".analysis",
    "analyse_features": ".analysis",
    "BatchResult": ".batch",
    "run_batch": ".batch",
    "Manifest": ".manifest",
    "load_manifest": ".manifest",
    "MomentsBatch": ".moments_runs",
    "analyse_runs": ".moments_runs",
    "MEAOptions": ".mea",
    "run_mea_batch": ".mea",
})
