"""Comparing conversion rates of a treated group and a control group."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import chi2_contingency


@dataclass(frozen=True)
class Comparison:
    """Treated minus control conversion rate, its 95% Wald interval and chi-squared p-value."""

    absolute: float
    relative: float | None
    ci_low: float
    ci_high: float
    p_value: float | None


def compare_rates(
    converted: int, total: int, control_converted: int, control_total: int
) -> Comparison:
    """Compare the conversion rate of a group against its control group.

    The p-value is None when a column of the 2x2 table is empty (nobody or everybody
    converted in both groups), where the test says nothing.
    """
    p1 = converted / total if total else 0.0
    p0 = control_converted / control_total if control_total else 0.0
    diff = p1 - p0
    se = (
        math.sqrt(p1 * (1 - p1) / total + p0 * (1 - p0) / control_total)
        if total and control_total
        else 0.0
    )
    table = [
        [converted, total - converted],
        [control_converted, control_total - control_converted],
    ]
    p_value = None
    if total and control_total and min(sum(col) for col in zip(*table, strict=True)) > 0:
        p_value = float(chi2_contingency(table, correction=False)[1])
    return Comparison(
        absolute=diff,
        relative=diff / p0 if p0 else None,
        ci_low=diff - 1.96 * se,
        ci_high=diff + 1.96 * se,
        p_value=p_value,
    )
