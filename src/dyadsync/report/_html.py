"""The pieces every report is made of: the page, tables, figures as inline SVG (private to :mod:`dyadsync.report`).

Pages are self-contained: inline CSS and SVG, no script, no external resource, no video frame. Every string that
comes from an input is escaped.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from . import figures

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; margin: 0; background: #fafafa; }
main { max-width: 1000px; margin: 0 auto; padding: 24px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; }
.meta { color: #666; font-size: 12px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: right; } th { background: #f3f3f3; }
td.l, th.l { text-align: left; }
figure { margin: 12px 0; } figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 12px; color: #555; }
.warn { background: #fff6e0; border-left: 4px solid #f2b134; padding: 6px 10px; margin: 4px 0; font-size: 13px; }
.yes { color: #1b7f3b; font-weight: 600; } .no { color: #888; }
details pre { font-size: 11px; background: #f6f6f6; padding: 8px; overflow-x: auto; }
"""


def table_html(df: pd.DataFrame, left: tuple[str, ...] = (), raw: dict[str, list[str]] | None = None) -> str:
    """An HTML table; ``raw`` gives ready-made (escaped) HTML for some columns, one entry per row."""
    head = "".join(f'<th class="{"l" if c in left else ""}">{html.escape(str(c))}</th>' for c in df.columns)
    rows = []
    for i, (_, row) in enumerate(df.iterrows()):
        cells = []
        for c in df.columns:
            v = row[c]
            if raw and c in raw:
                text = raw[c][i]
            elif isinstance(v, float) and np.isnan(v):
                text = ""
            elif isinstance(v, float):
                text = f"{v:.3g}" if abs(v) < 1e-3 and v != 0 else f"{v:.3f}"
            else:
                text = html.escape(str(v))
            cells.append(f'<td class="{"l" if c in left else ""}">{text}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def element_id(kind: str, *parts: object) -> str:
    """An HTML id for an element about ``parts`` (feature, code, session...), derived, never copied: the parts'
    letters and digits for readability, then a hash of the parts themselves, so that any code or file name gives
    a valid, unique id that holds no markup."""
    text = "\x1f".join(str(p) for p in parts)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:40]
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{kind}-{slug}-{digest}" if slug else f"{kind}-{digest}"


def figure_html(fig: Any, caption: str, kind: str, *parts: object) -> str:
    """A figure as inline SVG with its (escaped) caption; its id is :func:`element_id` of ``kind`` and ``parts``."""
    svg = _COMMENT.sub("", figures.to_svg(fig))  # matplotlib writes each text as a comment too: not needed here
    return (
        f'<figure id="{element_id(kind, *parts)}" class="figure">{svg}'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


_COMMENT = re.compile(r"<!--.*?-->", re.S)

#: What a report may load and run: nothing from outside, no script but the ones the report wrote itself (their
#: hashes are added), styles and images inline only.
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src 'none'; connect-src 'none'; "
       "media-src 'none'; object-src 'none'; frame-src 'none'; base-uri 'none'; form-action 'none'")


def csp(scripts: Sequence[str] = ()) -> str:
    """The Content-Security-Policy of a page whose only scripts are ``scripts`` (allowed by their SHA-256)."""
    if not scripts:
        return CSP + "; script-src 'none'"
    import base64

    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in scripts)
    return f"{CSP}; script-src {hashes}"


def page_html(title: str, body: str, *, scripts: Sequence[str] = ()) -> str:
    """A whole self-contained page: the (escaped) title, the stylesheet, ``body`` (HTML made here) and the page's
    own ``scripts``, under a Content-Security-Policy that allows nothing else."""
    code = "".join(f"<script>{s}</script>" for s in scripts)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{html.escape(csp(scripts))}">'
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{html.escape(title)}</title>"
        f"<style>{CSS}</style></head><body><main>{body}</main>{code}</body></html>\n"
    )
