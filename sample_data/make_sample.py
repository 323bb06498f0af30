"""Regenerate the bundled sample session with dyadsync's own simulator.

    .venv/bin/python sample_data/make_sample.py

Every planted parameter is written to ``ground_truth.json``; see ``PROVENANCE.md``.
"""

from pathlib import Path

from dyadsync.simulate.render import Artefacts
from dyadsync.simulate.session import write_session

HERE = Path(__file__).resolve().parent

#: Moments of meeting. Their spacings (21, 34, 29 s) and all sums of them differ, so that no circular shift of
#: the codes lines up more than one pair of them again.
EPISODES = [(12.0, 25.0), (33.0, 45.0), (67.0, 81.0), (96.0, 108.0)]

if __name__ == "__main__":
    truth = write_session(
        HERE,
        duration_s=120.0,
        fps=25.0,
        lag_s=0.8,
        episodes=EPISODES,
        coupling=1.0,
        artefacts=Artefacts(flickers=[(29.0, 0.2, 1.18)], bumps=[(88.0, 0.12, 4, 3)]),
        seed=2026,
    )
    print("wrote", HERE, "with episodes", truth["movement"]["episodes"])
