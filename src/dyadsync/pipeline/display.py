"""Progress of a batch on the terminal: a bar for the batch and one per running session, or a line per session."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from .batch_outputs import SessionOutcome
from .layout import PROGRESS_FILE, read_json, session_dir


class BatchDisplay:
    """Progress: a bar for the batch and one per running session (stage and %), or one line per session."""

    def __init__(self, total: int, already: int, out: Path, *, quiet: bool, enabled: bool) -> None:
        self.out, self.quiet, self.enabled = out, quiet, enabled
        self.total, self.n_done = total, 0
        self.running: list[str] = []
        self.bars: dict[str, Any] = {}
        self.batch = None
        if enabled and not quiet:
            from tqdm import tqdm

            self._tqdm = tqdm
            self.batch = tqdm(total=total, desc="batch", unit="session", position=0, leave=True, file=sys.stderr)

    def finished(self, o: SessionOutcome) -> None:
        self.n_done += 1
        if not self.enabled:
            return
        if self.batch is not None:
            self.batch.update(1)
            bar = self.bars.pop(o.session, None)
            if bar is not None:
                bar.close()
            if o.status == "failed":
                self.batch.write(f"failed: {o.session}: {o.error}", file=sys.stderr)
        else:
            what = {"done": "done", "skipped": "already complete", "failed": f"FAILED: {o.error}"}[o.status]
            extra = f" ({o.seconds:.1f} s)" if o.status == "done" else ""
            print(f"[{self.n_done}/{self.total}] {o.session}: {what}{extra}", file=sys.stderr, flush=True)

    def poll(self) -> None:
        if self.batch is None:
            return
        for sid in self.running:
            state = read_json(session_dir(self.out, sid) / PROGRESS_FILE)
            if not state:
                continue
            bar = self.bars.get(sid)
            if bar is None:
                bar = self._tqdm(total=100, desc=sid, position=len(self.bars) + 1, leave=False, file=sys.stderr,
                                 bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}")
                self.bars[sid] = bar
            bar.n = int(100 * float(state.get("fraction", 0)))
            bar.set_postfix_str(str(state.get("stage", "")), refresh=False)
            bar.refresh()

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        if self.batch is not None:
            self.batch.close()
