"""The audit's Spark engine: `harness audit --engine spark` (see harness/auditing/spark/audit.py)."""

from __future__ import annotations

from typing import Any


def pandas_frame(data: Any, columns: list[str] | None = None, strings: tuple[str, ...] = ()):
    """A pandas DataFrame for Spark's Arrow transfer. Text columns are plain Python objects with None
    for missing values: a text column that happens to hold only missing values would otherwise become
    float NaN (or, in pandas 3, an Arrow-backed string array) and fail the conversion to Spark's string."""
    import pandas as pd

    df = pd.DataFrame(data, columns=columns)
    for c in df.columns:
        if c in strings or (pd.api.types.is_string_dtype(df[c].dtype) and df[c].dtype != object):
            df[c] = df[c].astype(object).where(df[c].notna(), None)
    return df


def values(pdf: Any, name: str) -> list:
    """A column of a batch Spark handed over, as Python values with None for missing (pandas 3 gives a
    missing string as NaN)."""
    import pandas as pd

    col = pdf[name]
    return [None if v is None or (isinstance(v, float) and pd.isna(v)) else v for v in col.tolist()]
