"""Synchrony around coded moments (of meeting, ruptures and repairs, innovative moments, dial ratings).

Every analysis takes a synchrony series (window centres, s) and coded events and returns a small result
dataclass of tidy tables; :func:`analyse_moments` runs the configured set on one session (parameters:
:class:`MomentsParams`), and the tables of many sessions combine across dyads (:func:`across_dyads`).

>>> from dyadsync.moments import analyse_moments, MomentsParams, event_locked_average

Analyses
--------
event_locked_average    event-locked average against circular shifts of the event times (bands, clusters)
epoch_contrasts         PRE / DURING / POST epochs against random epochs of uncoded time
synchrony_peaks         peaks and episodes above a surrogate threshold (shifted_pair_synchrony gives it);
                        episode_leaders: who leads in each episode
peak_event_matching     optimal one-to-one matching of peaks and events, F1 over tolerance, latencies
event_coincidence       precursor and trigger coincidence rates (Donges et al. 2016), cross-correlogram
compare_event_groups    two codes (or two coders) of one session; compare_modalities: two features
coder_agreement         kappa, specific agreement, event-matching F1; consensus_events
dial_congruence         continuous dial ratings: congruence, high/low segments, relation to synchrony
across_dyads            per-session z combined across dyads, forest table, grand average, epoch mixed model
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "ANALYSES": ".params",
    "MomentsParams": ".params",
    "MOMENT_TABLES": ".session",
    "MomentsResult": ".session",
    "analyse_moments": ".session",
    "analysis_units": ".session",
    "EventLocked": ".epochs",
    "event_locked_average": ".epochs",
    "zscore": ".epochs",
    "EpochContrasts": ".contrasts",
    "epoch_contrasts": ".contrasts",
    "SynchronyPeaks": ".peaks",
    "synchrony_peaks": ".peaks",
    "shifted_pair_synchrony": ".peaks",
    "surrogate_threshold": ".peaks",
    "episode_leaders": ".peaks",
    "Matching": ".matching",
    "match_events": ".matching",
    "peak_event_matching": ".matching",
    "Coincidence": ".coincidence",
    "coincidence_rates": ".coincidence",
    "event_coincidence": ".coincidence",
    "compare_event_groups": ".compare",
    "compare_modalities": ".compare",
    "coder_agreement": ".agreement",
    "cohens_kappa": ".agreement",
    "consensus_events": ".agreement",
    "fleiss_kappa": ".agreement",
    "specific_agreement": ".agreement",
    "dial_congruence": ".dial",
    "dial_segments": ".dial",
    "dial_synchrony": ".dial",
    "across_dyads": ".multilevel",
    "combine_sessions": ".multilevel",
    "epoch_mixed_model": ".multilevel",
    "forest_table": ".multilevel",
    "grand_average": ".multilevel",
})
