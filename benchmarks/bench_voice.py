"""Speed of f0 + intensity of one channel, as a multiple of real time (bar: at least 50x), and of automatic
two-speaker attribution on the mixed channels.

Baselines measured in the same run: Praat through parselmouth (when installed, the test extra) and librosa's
pyin on a 10-s excerpt; attribution is also given relative to f0 + intensity of one channel as long, and on a
20-minute sound (the sample repeated ten times) to show how its cost grows with the length of the session.
Prints ratios; not part of the test suite.

    .venv/bin/python benchmarks/bench_voice.py
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from dyadsync.features.clustering import activity_auto
from dyadsync.features.pitch import intensity_track, pitch_track
from dyadsync.io.audio import read_audio

ROOT = Path(__file__).resolve().parents[1]


def best_of(fn, n=3):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    audio = read_audio(ROOT / "sample_data" / "dyad_session.mp4")
    y = audio.samples[0].astype(np.float64)
    sr = audio.sample_rate
    dur = audio.duration_s
    ours = best_of(lambda: (pitch_track(y, sr), intensity_track(y, sr)))
    print(f"dyadsync f0 + intensity, one channel of {dur:.0f} s at {sr} Hz: {ours:.2f} s = {dur / ours:.0f}x real time "
          f"(bar: 50x) {'OK' if dur / ours >= 50 else 'BELOW BAR'}")
    try:
        import parselmouth

        snd = parselmouth.Sound(y, sampling_frequency=sr)
        praat = best_of(lambda: (snd.to_pitch_ac(time_step=0.01, pitch_floor=75, pitch_ceiling=600),
                                 snd.to_intensity(minimum_pitch=100, time_step=0.01)))
        print(f"Praat (parselmouth) f0 + intensity: {dur / praat:.0f}x real time; dyadsync/Praat = {praat / ours:.2f}")
    except ImportError:
        print("parselmouth not installed (pip install -e '.[test]'): no Praat baseline")
    import librosa

    seg = y[: 10 * sr]
    pyin = best_of(lambda: librosa.pyin(seg, fmin=75, fmax=600, sr=sr, hop_length=sr // 100), n=1)
    print(f"librosa pyin (10 s excerpt): {10 / pyin:.1f}x real time; dyadsync is {pyin / 10 * dur / ours:.0f}x faster")

    # automatic two-speaker attribution on one channel (the two channels mixed), given the intensity contour
    for reps in (1, 10):
        mono = np.tile(audio.mono().astype(np.float64), reps)
        times, level = intensity_track(mono, sr)
        auto = best_of(lambda: activity_auto(mono, sr, times, intensity_db=level), n=3 if reps == 1 else 1)
        relative = f" ({auto / ours:.2f}x the time of f0 + intensity above)" if reps == 1 else ""
        print(f"automatic speaker attribution, mono mix of {dur * reps / 60:.0f} min: {auto:.2f} s = "
              f"{dur * reps / auto:.0f}x real time{relative}")


if __name__ == "__main__":
    main()
