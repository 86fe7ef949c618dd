"""Working days against the published 2025 and 2026 holiday schedules (国务院办公厅 notices), as the package has them."""
from __future__ import annotations

from datetime import date

import pytest

from archive.core.errors import ValidationError
from archive.core.workdays import CalendarNotCovered, add_workdays, is_workday, nth_workday, workdays_between


@pytest.mark.parametrize(
    ("day", "works"),
    [
        (date(2026, 10, 1), False),  # National Day 2026: 1–7 October off
        (date(2026, 10, 5), False),  # a Monday inside the holiday
        (date(2026, 10, 7), False),
        (date(2026, 10, 8), True),
        (date(2026, 9, 20), True),  # Sunday worked in exchange (调休)
        (date(2026, 10, 10), True),  # Saturday worked in exchange
        (date(2026, 10, 11), False),  # an ordinary Sunday
        (date(2026, 9, 25), False),  # Mid-Autumn Festival 2026, a Friday
        (date(2026, 2, 16), False),  # Spring Festival 2026
        (date(2026, 2, 14), True),  # Saturday worked before the Spring Festival
        (date(2025, 10, 8), False),  # National Day and Mid-Autumn 2025: 1–8 October
        (date(2025, 9, 28), True),  # Sunday worked in 2025
        (date(2025, 10, 11), True),  # Saturday worked in 2025
        (date(2025, 1, 26), True),  # Sunday worked before the 2025 Spring Festival
        (date(2025, 11, 19), True),  # an ordinary Wednesday
    ],
)
def test_statutory_holidays_and_adjusted_working_days(day, works):
    assert is_workday(day) is works


def test_nth_workday_counts_the_start_when_it_is_a_workday():
    assert nth_workday(date(2026, 11, 23), 1) == date(2026, 11, 23)  # a Monday
    assert nth_workday(date(2026, 11, 23), 5) == date(2026, 11, 27)
    # A Saturday start: the first working day is the Monday after.
    assert nth_workday(date(2026, 11, 21), 1) == date(2026, 11, 23)


def test_fifth_workday_across_national_day_2026():
    # Tue 29 Sep, Wed 30 Sep, then the holiday 1–7 Oct, Thu 8, Fri 9, Sat 10 (worked).
    assert nth_workday(date(2026, 9, 29), 5) == date(2026, 10, 10)
    # Starting on the worked Sunday 20 Sep: 20, 21, 22, 23, 24.
    assert nth_workday(date(2026, 9, 20), 5) == date(2026, 9, 24)
    # Starting on a holiday: 8, 9, 10 Oct, then Mon 12, Tue 13.
    assert nth_workday(date(2026, 10, 1), 5) == date(2026, 10, 13)


def test_nth_workday_needs_a_positive_count():
    with pytest.raises(ValueError):
        nth_workday(date(2026, 11, 23), 0)


def test_add_workdays_forward_back_and_zero():
    assert add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert add_workdays(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert add_workdays(date(2026, 10, 8), -1) == date(2026, 9, 30)
    assert add_workdays(date(2026, 10, 12), -2) == date(2026, 10, 9)
    assert add_workdays(date(2026, 10, 3), 0) == date(2026, 10, 3)
    # 2025: the working Saturday 11 Oct comes right after Thu 9 and Fri 10.
    assert add_workdays(date(2025, 9, 30), 3) == date(2025, 10, 11)


def test_workdays_between_is_the_inverse_of_add_workdays():
    assert workdays_between(date(2026, 9, 30), date(2026, 10, 8)) == 1
    assert workdays_between(date(2026, 9, 28), date(2026, 10, 12)) == 6  # 29, 30 Sep, 8, 9, 10, 12 Oct
    assert workdays_between(date(2026, 10, 12), date(2026, 9, 28)) == -6
    assert workdays_between(date(2026, 10, 1), date(2026, 10, 7)) == 0
    assert workdays_between(date(2026, 5, 5), date(2026, 5, 5)) == 0
    for n in (1, 4, 17, 60):
        assert workdays_between(date(2026, 1, 5), add_workdays(date(2026, 1, 5), n)) == n


def test_a_year_the_package_does_not_cover_is_refused_not_guessed():
    with pytest.raises(CalendarNotCovered) as raised:
        is_workday(date(2099, 3, 2))
    error = raised.value
    assert isinstance(error, ValidationError)
    assert error.details == {"year": 2099}
    assert error.message % error.details == (
        "The working-day calendar does not cover 2099; update the chinesecalendar package."
    )
    with pytest.raises(CalendarNotCovered):
        workdays_between(date(2026, 12, 1), date(2099, 1, 5))


def test_counting_into_an_uncovered_year_is_refused():
    # The last covered year ends; the first days of the next one are not known yet.
    from chinese_calendar.constants import holidays

    last = max(holidays).year
    with pytest.raises(CalendarNotCovered) as raised:
        nth_workday(date(last, 12, 28), 10)
    assert raised.value.details == {"year": last + 1}
