"""Figures and self-contained HTML reports (no video frames, no external resources)."""
