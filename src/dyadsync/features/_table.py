"""Feature tables of several persons analysed in one pass (the table format itself is :mod:`dyadsync.io.tables`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..io.tables import concat_tables, long_table


def persons_table(parts: list[tuple[np.ndarray, dict[tuple[str, str], np.ndarray]]]) -> pd.DataFrame:
    """One long table from each person's ``(times, columns)``, as :func:`long_table` per person then joined.

    Persons analysed on the same frames (one MediaPipe pass) are stacked in one go, without the copy of joining.
    """
    if not parts:
        return long_table(np.zeros(0), {})
    if all(np.array_equal(parts[0][0], times) for times, _ in parts[1:]):
        return long_table(parts[0][0], {key: v for _, columns in parts for key, v in columns.items()})
    return concat_tables([long_table(times, columns) for times, columns in parts])
