"""helpers.transformer.dates: the date task as CLDR writes dates, cut by day, format and year without leaks."""

from __future__ import annotations

from datetime import date

import pytest

from helpers.transformer.dates import DATE_FORMATS, FIRST_DATE, date_examples, date_task, format_date, split_dates


def test_dates_are_written_as_cldr_writes_them() -> None:
    day = date(2026, 11, 24)
    assert format_date(day, "en_US full") == "Tuesday, November 24, 2026"
    assert format_date(day, "en_US short") == "11/24/26"
    assert format_date(day, "de_DE full") == "Dienstag, 24. November 2026"
    assert format_date(day, "fr_FR medium") == "24 nov. 2026"
    assert format_date(day, "es_ES full") == "martes, 24 de noviembre de 2026"
    assert format_date(day, "ja_JP full") == "2026年11月24日火曜日"
    assert format_date(day, "ko_KR full") == "2026년 11월 24일 화요일"
    assert format_date(date(1999, 3, 5), "de_DE short") == "05.03.99"
    assert format_date(date(1999, 9, 5), "en_GB medium") == "5 Sept 1999"
    with pytest.raises(ValueError, match="unknown date format"):
        format_date(day, "xx_XX full")


def test_every_text_names_exactly_one_date() -> None:
    splits = split_dates()
    seen: dict[str, date] = {}
    for day in splits["train"][::5] + splits["test"]:
        for name in DATE_FORMATS:
            assert seen.setdefault(format_date(day, name), day) == day


def test_split_is_by_date_and_deterministic() -> None:
    splits = split_dates(validation=100, test=200, seed=3)
    assert len(splits["validation"]) == 100 and len(splits["test"]) == 200
    assert len(set(splits["train"]) | set(splits["validation"]) | set(splits["test"])) == 36525
    assert not set(splits["train"]) & set(splits["test"]) and not set(splits["train"]) & set(splits["validation"])
    assert split_dates(validation=100, test=200, seed=3) == splits
    assert min(splits["train"] + splits["test"]) == FIRST_DATE
    examples = date_examples(splits["test"][:50], seed=1)
    assert examples == date_examples(splits["test"][:50], seed=1)
    assert all(iso == day.isoformat() for (_, iso, _), day in zip(examples, splits["test"][:50], strict=True))


def test_negative_or_fractional_split_sizes_are_refused() -> None:
    """Issue 22: validation=-5 used to slice days[:-5] into validation, leaking training days."""
    for bad in ({"validation": -5}, {"test": -1}, {"validation": 2.5}, {"test": True}):
        with pytest.raises(ValueError, match="whole number of days"):
            split_dates(**bad)
    with pytest.raises(ValueError, match="years"):
        split_dates(years=(1960, 2000))


def test_held_out_formats_days_and_years_do_not_leak() -> None:
    task = date_task(
        held_out_formats=["fr_FR medium", "ko_KR short"],
        years=(1975, 2059),
        validation=300,
        test=500,
        other_years=400,
        seed=2,
    )
    train_days = set(task.train_days)
    assert all(1975 <= day.year <= 2059 for day in train_days)
    assert set(task.training_formats) == set(DATE_FORMATS) - {"fr_FR medium", "ko_KR short"}
    for epoch in (1, 2):
        assert not {name for _, _, name in task.training_examples(epoch)} & set(task.held_out_formats)
    held_days = {date.fromisoformat(iso) for _, iso, _ in task.validation + task.test + task.held_out_format}
    assert not held_days & train_days  # no held-out day is trained on, in any format
    assert {name for _, _, name in task.held_out_format} == {"fr_FR medium", "ko_KR short"}
    assert not {name for _, _, name in task.test + task.validation + task.other_years} & set(task.held_out_formats)
    other = [date.fromisoformat(iso) for _, iso, _ in task.other_years]
    assert len(other) == 400 and all(not 1975 <= day.year <= 2059 for day in other)
    assert [iso for _, iso, _ in task.held_out_format] == [iso for _, iso, _ in task.test]  # the same days
    assert task.training_examples(1) != task.training_examples(2)  # a fresh format per epoch
    assert (
        date_task(
            held_out_formats=["fr_FR medium", "ko_KR short"],
            years=(1975, 2059),
            validation=300,
            test=500,
            other_years=400,
            seed=2,
        )
        == task
    )


def test_date_task_refuses_bad_formats() -> None:
    with pytest.raises(ValueError, match="unknown date format"):
        date_task(held_out_formats=["fr_FR tiny"])
    with pytest.raises(TypeError, match="list of format names"):
        date_task(held_out_formats="fr_FR medium")
    with pytest.raises(ValueError, match="leave at least one"):
        date_task(held_out_formats=list(DATE_FORMATS))


def test_format_date_refuses_a_string_and_two_digit_years_outside_the_window() -> None:
    with pytest.raises(TypeError, match="day must be a datetime.date, got str '2026-11-24'"):
        format_date("2026-11-24", "en_US short")  # used to raise AttributeError: 'str' has no 'year'
    with pytest.raises(ValueError, match="'en_US short' writes the year in two digits.*1950-06-01"):
        format_date(date(1950, 6, 1), "en_US short")  # used to write "6/1/50", which reads back as 2050
    with pytest.raises(ValueError, match="two digits"):
        format_date(date(2069, 1, 1), "de_DE short")
    assert format_date(date(1950, 6, 1), "en_US long") == "June 1, 1950"  # four digits: one reading
    assert format_date(date(1969, 1, 1), "en_US short") == "1/1/69" and format_date(date(2068, 12, 31), "ko_KR short")


def test_split_dates_names_a_years_argument_that_is_not_a_pair() -> None:
    for years in ((1990,), (1990.5, 2000), 1990, (1990, 2000, 2010)):
        with pytest.raises(ValueError, match=r"years must be a pair of whole years \(first, last\)"):
            split_dates(years=years)  # (1990,) used to fail with "not enough values to unpack"
