"""The text sparkline keeps a sane scale: bars in proportion to the values, from zero."""

from __future__ import annotations

from core.format import SPARK_BLOCKS, sparkline

LOWEST, HIGHEST = SPARK_BLOCKS[0], SPARK_BLOCKS[-1]


def test_a_15_percent_rise_does_not_span_the_full_height() -> None:
    line = sparkline([100, 102, 104, 106, 108, 110, 112, 115])  # Northwind's +15 %
    assert len(line) == 8 and line[-1] == HIGHEST
    assert LOWEST not in line
    assert SPARK_BLOCKS.index(line[0]) >= len(SPARK_BLOCKS) - 2  # 100/115: the 7th of 8 blocks


def test_a_25_percent_fall_does_not_reach_the_bottom() -> None:
    line = sparkline([100, 98, 95, 90, 85, 80, 78, 75])
    assert line[0] == HIGHEST and LOWEST not in line
    assert line[-1] == SPARK_BLOCKS[5]  # 75 % of the highest: 6 of 8 eighths


def test_bars_are_proportional_and_a_zero_week_is_the_lowest() -> None:
    assert sparkline([0, 50, 100]) == LOWEST + SPARK_BLOCKS[3] + HIGHEST
    assert sparkline([40, 40, 40]) == HIGHEST * 3  # flat: every week is the highest
    assert sparkline([0, 0]) == LOWEST * 2
    assert sparkline([]) == ""


def test_a_negative_week_sets_the_floor() -> None:
    # Refunds above sales: the scale runs from the lowest value to the highest.
    assert sparkline([-100, 0, 100]) == LOWEST + SPARK_BLOCKS[3] + HIGHEST
