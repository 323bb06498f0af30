"""dyadsync.synchrony's public API: every name importable from the package, loaded lazily, and every wrong
argument a DyadsyncError (never a bare TypeError or ValueError from inside numpy)."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import dyadsync.synchrony as sync
from dyadsync.errors import DyadsyncError

#: Public functions and classes of the synchrony modules that the package does not export, and why.
NOT_EXPORTED = {
    "params.check_summary": "validator of the summary option, for configuration code",
    "indices.segment_ccf": "SUSY's per-segment building block (R's ccf for every pair of segments)",
}


def test_every_exported_name_resolves_and_is_listed():
    for name in sync.__all__:
        module = importlib.import_module(f"dyadsync.synchrony.{sync._EXPORTS[name]}")
        assert getattr(sync, name) is getattr(module, name)
    assert set(sync.__all__) <= set(dir(sync))
    namespace: dict = {}
    exec("from dyadsync.synchrony import *", namespace)
    assert set(sync.__all__) <= set(namespace)
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        sync.nothing_here  # noqa: B018


def test_the_package_exports_every_public_function_of_its_modules():
    missing = []
    for module_name in sync._MODULES:
        module = importlib.import_module(f"dyadsync.synchrony.{module_name}")
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and name not in sync.__all__:
                missing.append(f"{module_name}.{name}")
    assert sorted(missing) == sorted(NOT_EXPORTED)


def test_import_is_lazy():
    """``import dyadsync.synchrony`` costs nothing until a function is used (pandas and scipy load then)."""
    code = ("import sys, dyadsync.synchrony as s; print(sorted(m for m in ('pandas', 'scipy') if m in sys.modules));"
            "s.windowed_cross_correlation; print('pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["[]", "True"]


RNG = np.random.default_rng(0)
A, B = RNG.standard_normal((2, 400))
KW = dict(rate_hz=10, window_s=6, step_s=2, max_lag_s=1)
WCC = sync.windowed_cross_correlation(A, B, **KW)
TURNS = pd.DataFrame({"speaker": ["left", "right"] * 10, "onset_s": np.arange(20.0) * 3,
                      "f0_mean_st": RNG.normal(10, 1, 20)})

BAD = [
    ("windowed_cross_correlation", lambda: sync.windowed_cross_correlation(A, "x", **KW)),
    ("windowed_cross_correlation", lambda: sync.windowed_cross_correlation(A, B, **KW, min_valid="most")),
    ("windowed_cross_correlation", lambda: sync.windowed_cross_correlation(A, B, **KW, t0_s=None)),
    ("summarize", lambda: sync.summarize(WCC.values)),
    ("global_index", lambda: sync.global_index(None)),
    ("pick_peaks", lambda: sync.pick_peaks("wcc")),
    ("pick_peak_lags", lambda: sync.pick_peak_lags(np.ones(5), rate_hz=10)),
    ("pick_peak_lags", lambda: sync.pick_peak_lags(np.ones((3, 4)), rate_hz=10)),
    ("mea_ccf", lambda: sync.mea_ccf(A, B, rate_hz=10, lag_s=1, window_s=6, step_s=2, t0_s="start")),
    ("mea_smooth", lambda: sync.mea_smooth(3.0, rate_hz=10)),
    ("mea_scale", lambda: sync.mea_scale("values")),
    ("rmea_summaries", lambda: sync.rmea_summaries({})),
    ("lag_column_names", lambda: sync.lag_column_names(None)),
    ("circular_shift", lambda: sync.circular_shift(A, B, **KW, n_surrogates="many")),
    ("circular_shift", lambda: sync.circular_shift(A, B, **KW, n_surrogates=2.5)),
    ("circular_shift", lambda: sync.circular_shift(A, B, **KW, seed=-1)),
    ("circular_shift", lambda: sync.circular_shift(A, B, **{**KW, "rate_hz": float("nan")})),
    ("circular_shift", lambda: sync.circular_shift(A, None, **KW)),
    ("segment_shuffle", lambda: sync.segment_shuffle(A, B, **{**KW, "rate_hz": 0})),
    ("segment_shuffle", lambda: sync.segment_shuffle(A, B, **KW, seed="x")),
    ("shuffle_segments", lambda: sync.shuffle_segments(A, B, segment_samples=0)),
    ("iaaft", lambda: sync.iaaft(1.5)),
    ("iaaft", lambda: sync.iaaft(A, n_iter=None)),
    ("iaaft_surrogates", lambda: sync.iaaft_surrogates(A, B, **KW, n_surrogates=None)),
    ("pseudo_dyads", lambda: sync.pseudo_dyads([A, B], **KW)),
    ("pseudo_dyads", lambda: sync.pseudo_dyads([(A, B), (B, A)], **KW, engine="rmea")),
    ("pseudo_dyad_pairs", lambda: sync.pseudo_dyad_pairs("4")),
    ("pseudo_dyad_pairs", lambda: sync.pseudo_dyad_pairs(4, n=float("nan"))),
    ("compare", lambda: sync.compare(None, [1.0, 2.0])),
    ("compare", lambda: sync.compare([1.0, 2.0], [1.0, 2.0])),
    ("compare_groups", lambda: sync.compare_groups([1.0], "null")),
    ("compare_groups", lambda: sync.compare_groups([1.0], [0.5, 0.7], n_draws="all")),
    ("susy", lambda: sync.susy(A, B[:10], rate_hz=10, segment_s=20)),
    ("sync_table", lambda: sync.sync_table([1, 2], "f", ["A", "B"])),
    ("sync_table", lambda: sync.sync_table(pd.DataFrame({"time_s": [1.0]}), "f", "AB")),
    ("turn_exchanges", lambda: sync.turn_exchanges(None, ["left", "right"], "f0")),
    ("turn_exchanges", lambda: sync.turn_exchanges(TURNS, ["left"], "f0")),
    ("turn_exchanges", lambda: sync.turn_exchanges(TURNS, ["left", "right"], ["f0"])),
    ("entrainment_series", lambda: sync.entrainment_series(TURNS, ["left", "right"], window_turns="4")),
    ("entrainment_series", lambda: sync.entrainment_series(TURNS, ["left", "right"], duration_s=float("nan"))),
    ("vocal_arousal", lambda: sync.vocal_arousal(TURNS, ["left", "right"])),
    ("arousal_synchrony", lambda: sync.arousal_synchrony([], ["left", "right"])),
    ("vocal_synchrony", lambda: sync.vocal_synchrony(TURNS, ["left", "right"], turns=TURNS, features=None)),
    ("vocal_synchrony", lambda: sync.vocal_synchrony(TURNS, ["left", "right"])),
]


@pytest.mark.parametrize("call", [c for _, c in BAD], ids=[f"{n}-{i}" for i, (n, _) in enumerate(BAD)])
def test_a_wrong_argument_is_a_dyadsync_error(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DyadsyncError):
            call()


def test_every_exported_function_is_probed_above():
    functions = {n for n in sync.__all__ if inspect.isfunction(getattr(sync, n))
                 and inspect.signature(getattr(sync, n)).parameters}
    assert functions - {n for n, _ in BAD} == set()
