"""The moments docs stay true: every column written is in the codebook, every analysis has its page, and the worked
example's claims hold on the sample (against the planted truth, not pinned numbers)."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from dyadsync.moments.multilevel import across_dyads
from dyadsync.moments.session import MOMENT_TABLES
from dyadsync.pipeline.layout import MOMENTS_FILES as BATCH_OUTPUTS
from dyadsync.pipeline.moments_runs import analyse_runs

DOCS = ROOT / "docs"


def documented() -> set[str]:
    return set(re.findall(r"`([a-z0-9_]+)`", (DOCS / "codebook.md").read_text()))


@pytest.fixture(scope="module")
def sample_moments(sample_run, tmp_path_factory, sample_dir):
    out = tmp_path_factory.mktemp("sample_moments")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return analyse_runs([sample_run.out_dir], out, codes=[sample_dir / "moments_of_meeting.eaf"],
                            pipeline=DOCS / "examples" / "short_session_moments.toml")


def test_codebook_documents_every_moments_column(sample_run, sample_moments):
    names = documented()
    codebook = (DOCS / "codebook.md").read_text()
    for key in MOMENT_TABLES:
        fname = f"{key}.parquet"
        assert f"## {fname}" in codebook, fname
        table = pd.read_parquet(sample_run.out_dir / fname)
        assert set(table.columns) <= names, (fname, set(table.columns) - names)
    for key, table in [*sample_moments.tables.items(), *sample_moments.across.items()]:
        assert set(table.columns) <= names, (key, set(table.columns) - names)
    for fname in BATCH_OUTPUTS.values():
        assert fname in codebook, fname


def test_codebook_documents_the_comparison_and_mixed_model_columns():
    import dataclasses

    from dyadsync.moments.session import analyse_moments
    from dyadsync.pipeline.config import PipelineConfig
    from dyadsync.simulate import simulate_synchrony

    rng = np.random.default_rng(0)
    a = simulate_synchrony(seed=rng, n_events=8, duration_s=1500, feature="body")
    b = simulate_synchrony(seed=rng, events=a.events[["onset_s", "offset_s"]].to_numpy(), duration_s=1500,
                           feature="head")
    ev = a.events.assign(code=np.where(np.arange(8) % 2 == 0, "MoM", "IM"))
    second = ev[ev.code == "MoM"].assign(coder="c2")
    params = dataclasses.replace(PipelineConfig().moments, n_shifts=49, n_random=49)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyse_moments(pd.concat([a.synchrony, b.synchrony]), pd.concat([ev, second]), params, window_s=8,
                              surrogate_sync={f: [a.values] for f in ("body", "head")}, duration_s=1500)
        tests = res["moment_tests"]
        assert {"compare_code", "compare_coder", "compare_modality"} <= set(tests["analysis"])
        # two "dyads" with identical epochs: a degenerate design the mixed model cannot fit (it says so)
        epochs = pd.concat([res["moment_epochs"].assign(dyad=d, session=d) for d in ("d1", "d2")])
        across = across_dyads(tests.assign(dyad="d1", session="d1"), epochs, res["moments"].assign(session="d1"))
    assert across["mixed_model"]["model"].str.startswith(("mixedlm", "ols, dyad-clustered SE")).all()
    names = documented()
    for table in (tests, across["mixed_model"], across["combined"], across["grand_average"]):
        assert len(table) and set(table.columns) <= names, set(table.columns) - names


def test_every_analysis_has_a_methods_page_with_the_required_sections():
    pages = ["event_locked", "epoch_contrasts", "synchrony_peaks", "peak_event_matching", "event_coincidence",
             "across_dyads", "comparisons", "coder_agreement", "dial_ratings"]
    index = (DOCS / "index.md").read_text()
    for page in pages:
        text = (DOCS / "methods" / f"{page}.md").read_text()
        assert f"methods/{page}.md" in index, page
        assert "**Question answered" in text or "**Questions answered" in text, page
        assert "## References" in text and ("Null hypothes" in text or "Null reference" in text), page
        assert "## Parameters" in text and ("## Reading" in text), page


def test_worked_example_claims_hold_on_the_sample(sample_moments):
    """docs/moments_worked_example.md: synchrony raised during the moments, no evidence of a lead (planted truth)."""
    tests = sample_moments.tables["moment_tests"].set_index(["analysis", "direction"])
    assert tests.loc[("event_locked", ""), "p_value"] < 0.01
    assert tests.loc[("event_locked_cluster", ""), "p_value"] < 0.01
    assert tests.loc[("contrast_during", ""), "p_value"] < 0.01
    assert tests.loc[("contrast_pre", ""), "p_value"] > 0.05 and tests.loc[("contrast_post", ""), "p_value"] > 0.05
    assert tests.loc[("matching_f1", ""), "statistic"] == 1.0
    assert "not evidence of precedence" in tests.loc[("matching_latency", ""), "precedence"]
    assert tests.loc[("coincidence_precursor", "peaks_before_events"), "p_value"] > 0.05
    text = (DOCS / "moments_worked_example.md").read_text()
    row = tests.loc[("event_locked", "")]
    assert f"{row['statistic']:.2f}" in text  # the table in the docs was made by this code
