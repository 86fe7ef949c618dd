"""Chinese working days: weekdays minus the statutory holidays, plus the weekend days worked in their place (调休).

The calendar comes from the `chinesecalendar` package, which adds each year once the State Council publishes it.
A date outside the years it covers raises CalendarNotCovered: a deadline is never guessed.
"""
from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar

from .errors import ValidationError

_DAY = timedelta(days=1)


class CalendarNotCovered(ValidationError):
    """A date in a year the installed calendar has no holidays for (details: year)."""


def is_workday(d: date) -> bool:
    try:
        return chinese_calendar.is_workday(d)
    except NotImplementedError:  # the package's answer for a year it has no data for
        raise CalendarNotCovered(
            "The working-day calendar does not cover %(year)s; update the chinesecalendar package.", year=d.year
        ) from None


def nth_workday(start: date, n: int) -> date:
    """The n-th working day from start, start itself counting as the first when it is a working day."""
    if n < 1:
        raise ValueError("n must be at least 1")
    return add_workdays(start - _DAY, n)


def add_workdays(d: date, n: int) -> date:
    """The n-th working day after d (before d when n is negative); d itself when n is 0."""
    step = _DAY if n >= 0 else -_DAY
    remaining = abs(n)
    while remaining:
        d += step
        if is_workday(d):
            remaining -= 1
    return d


def workdays_between(a: date, b: date) -> int:
    """Working days after a up to and including b (negative when b is before a).

    So workdays_between(d, add_workdays(d, n)) == n, and a deadline met on time gives a count <= 0.
    """
    if b < a:
        return -workdays_between(b, a)
    count, d = 0, a
    while d < b:
        d += _DAY
        count += is_workday(d)
    return count
