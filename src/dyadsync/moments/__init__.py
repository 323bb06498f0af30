"""Synchrony around coded moments: event-locked averages against circular-shift surrogates."""

from .epochs import EventLocked, event_locked_average, zscore

__all__ = ["EventLocked", "event_locked_average", "zscore"]
