"""Figures and self-contained HTML reports, rendered from the records and tables they are handed.

``report`` never reads a run folder or knows a file name (that is :mod:`dyadsync.pipeline.layout`): a caller
hands it the run record (``run.json``) and the tables.

>>> from dyadsync.report import write_session_report, figures
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "figures": ".figures",
    "write_batch_report": ".batch",
    "write_moments_report": ".moments",
    "write_session_report": ".session",
})
