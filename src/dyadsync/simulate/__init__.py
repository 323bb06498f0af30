"""Dyads with known ground truth, for tests, docs, benchmarks and the bundled sample.

``simulate_dyad`` gives planted movement (and the moments of meeting at its imitation episodes);
``simulate_conversation`` and ``synthesize_voices`` give turns of voiced sound with known pitch;
``render_dyad_video`` animates two photographed people with the planted movement; ``write_session`` writes a
whole simulated session (video with audio, codes, ground truth) to a folder; ``simulate_synchrony`` gives
synchrony series with coded events and bumps planted around them (for calibrating the moments statistics).
"""

from .dyad import PARAMETERS, SimulatedDyad, coupling_envelope, simulate_dyad
from .synchrony import SimulatedSynchrony, simulate_synchrony

__all__ = [
    "PARAMETERS",
    "SimulatedDyad",
    "SimulatedSynchrony",
    "coupling_envelope",
    "simulate_dyad",
    "simulate_synchrony",
]
