"""Dyads with known ground truth, for tests, docs, benchmarks and the bundled sample.

Every simulator returns what it planted together with the signals, so that a test can check recovery.

>>> from dyadsync.simulate import simulate_dyad, write_session

simulate_dyad          planted movement of two persons (imitation episodes with a lag; moments of meeting there)
simulate_synchrony     synchrony series with coded events and bumps planted around them (calibration)
simulate_conversation  turns of two speakers with known pitch; synthesize_voices renders them as sound
render_dyad_video      animates two photographed people with the planted movement (a video file)
write_session          a whole simulated session in a folder: video with sound, codes, ground truth
remux_session          the same session remuxed (e.g. the picture starting late), for timing tests
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "PARAMETERS": ".dyad",
    "SimulatedDyad": ".dyad",
    "coupling_envelope": ".dyad",
    "place_episodes": ".dyad",
    "simulate_dyad": ".dyad",
    "SimulatedSynchrony": ".synchrony",
    "place_events": ".synchrony",
    "simulate_synchrony": ".synchrony",
    "synchrony_noise": ".synchrony",
    "simulate_conversation": ".voice",
    "synthesize_voices": ".voice",
    "Artefacts": ".render",
    "render_dyad_video": ".render",
    "remux_session": ".session",
    "write_session": ".session",
})
