"""The HTML reports in a real headless browser (Debian's chromium): no console errors, every figure drawn."""

from __future__ import annotations

import os
import shutil

import pytest

from dyadsync.report._html import element_id

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="module")
def browser():
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        executable = None
    if executable is None:
        if os.environ.get("DYADSYNC_REQUIRE_BROWSER"):
            pytest.fail("chromium and playwright are required here (DYADSYNC_REQUIRE_BROWSER is set)")
        pytest.skip("no chromium on this machine (Debian: apt-get install chromium); .ci/run installs it")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        b.close()


def open_page(browser, path):
    page = browser.new_page()
    problems = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed request: {r.url}"))
    page.goto(path.resolve().as_uri())
    page.wait_for_load_state("load")
    return page, problems


def check_figures(page, expected_ids):
    figures = page.query_selector_all("figure")
    ids = [f.get_attribute("id") for f in figures]
    for fig_id in expected_ids:
        assert fig_id in ids, (fig_id, ids)
    for fig in figures:
        svg = fig.query_selector("svg")
        assert svg is not None, fig.get_attribute("id")
        box = svg.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 100, (fig.get_attribute("id"), box)
    return ids


def test_session_report_in_browser(browser, sample_run):
    page, problems = open_page(browser, sample_run.report)
    check_figures(page, [element_id("timeline", "motion_energy"), element_id("heatmap", "motion_energy"),
                         element_id("event-locked", "", "motion_energy", "MoM"), element_id("qc-motion")])
    assert page.title() == "dyadsync session report"
    assert problems == []
    page.close()


def test_batch_report_in_browser_links_to_session_reports(browser, tmp_path):
    from conftest import SAMPLE
    from dyadsync.pipeline.batch import run_batch

    result = run_batch(SAMPLE / "manifest.csv", tmp_path / "batch", quiet=True)
    page, problems = open_page(browser, result.report)
    check_figures(page, [element_id("forest", "motion_energy", "MoM")])
    link = page.query_selector('a[href$="report.html"]')
    assert link is not None
    link.click()
    page.wait_for_load_state("load")
    assert page.url.endswith("sessions/sample01/report.html")
    check_figures(page, [element_id("timeline", "motion_energy")])
    assert problems == []
    page.close()


def test_batch_report_across_dyads_in_browser(browser, tmp_path):
    """Two dyads (the sample twice): combined tests, mixed model, grand-average curve and pseudo-dyads."""
    from conftest import SAMPLE
    from dyadsync.pipeline.batch import run_batch

    (tmp_path / "short_epochs.toml").write_text("[moments]\nepoch_s = 5\n")
    rows = [f"s{i},dyad{i},{SAMPLE / 'dyad_session.mp4'},{SAMPLE / 'moments_of_meeting.csv'},short_epochs.toml"
            for i in (1, 2)]
    (tmp_path / "m.csv").write_text("id,dyad,video,codes,pipeline\n" + "\n".join(rows) + "\n")
    result = run_batch(tmp_path / "m.csv", tmp_path / "batch", quiet=True)
    assert not result.failed
    page, problems = open_page(browser, result.report)
    check_figures(page, [element_id("forest", "motion_energy", "MoM"), element_id("grand-average", "motion_energy", "MoM")])
    headings = [h.inner_text() for h in page.query_selector_all("h3")]
    for heading in ("Moments tests combined across dyads", "Epoch-level mixed model",
                    "Grand-average event-locked curves", "Real dyads against pseudo-dyads"):
        assert heading in headings, headings
    text = page.inner_text("body")
    assert "q_value" in text and "pseudo_mean" in text
    assert problems == []
    page.close()


#: A code, coder and file name that would run script if any report copied them into its markup.
XSS = '"><img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


@pytest.fixture(scope="module")
def hostile_study(tmp_path_factory):
    """A clip of the sample coded with XSS as its code and coder, and its run, moments run and batch."""
    from conftest import SAMPLE
    from dyadsync.pipeline import analyse_runs, run_batch, run_session
    from dyadsync.simulate.session import remux_session

    folder = tmp_path_factory.mktemp("hostile")
    clip = folder / "clip.mp4"
    remux_session(SAMPLE / "dyad_session.mp4", clip, start_s=10.0, duration_s=40.0)
    quoted = XSS.replace('"', '""')
    codes = folder / "codes.csv"
    codes.write_text(f'onset,offset,code,coder\n5,12,"{quoted}","{quoted}"\n20,27,"{quoted}","{quoted}"\n')
    fast = folder / "fast.toml"
    fast.write_text("[moments]\nn_shifts = 199\nn_random = 199\ntmin_s = -5\ntmax_s = 5\nepoch_s = 4\n")
    run = run_session(clip, folder / "run", codes=codes, pipeline=fast)
    analyse_runs([folder / "run"], folder / "moments")
    (folder / "manifest.csv").write_text(
        f'id,dyad,video,codes,pipeline\ns1,"{quoted}",clip.mp4,codes.csv,fast.toml\n'
        f's2,d2,clip.mp4,codes.csv,fast.toml\n')
    batch = run_batch(folder / "manifest.csv", folder / "batch", workers=2, quiet=True, progress=False)
    return {"session": run.report, "moments": folder / "moments" / "moments_report.html", "batch": batch.report}


@pytest.mark.parametrize("kind", ["session", "moments", "batch"])
def test_input_strings_render_as_text_never_as_markup(browser, hostile_study, kind):
    page, problems = open_page(browser, hostile_study[kind])
    assert page.evaluate("window.__xss") is None  # neither the onerror handler nor the script ran
    assert page.query_selector_all("img") == [] and page.query_selector_all("script") == []
    for element in page.query_selector_all("[id]"):
        assert "<" not in element.get_attribute("id") and '"' not in element.get_attribute("id")
    assert XSS in page.inner_text("body")  # shown, as text
    csp = page.query_selector('meta[http-equiv="Content-Security-Policy"]').get_attribute("content")
    assert "default-src 'none'" in csp and "script-src 'none'" in csp
    assert problems == []
