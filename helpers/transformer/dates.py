"""The task of notebook 05: dates as real locales write them, normalised to ISO 8601 ("2026-11-24").

No parallel corpus ships offline, so the Transformer's sequence-to-sequence task is generated with the
standard library from the Unicode CLDR date patterns and month/weekday names of seven locales. The model
must reorder fields (month-day-year, day-month-year, year-month-day), read month names in five languages,
ignore the weekday and expand two-digit years (Python's ``%y`` rule: 69-99 -> 19xx, 00-68 -> 20xx).

:func:`date_task` cuts the task three ways a skeptical reader asks for: held-out *days* (never seen in
training, in any format), held-out *formats* (never seen in training, on any day) and held-out *years*
(outside the training range, so some digit patterns of the output were never produced in training).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from helpers.core import python_random, seed_stream

__all__ = [
    "DATE_FORMATS",
    "FIRST_DATE",
    "LAST_DATE",
    "DateTask",
    "date_examples",
    "date_task",
    "format_date",
    "split_dates",
]

Example = tuple[str, str, str]  # (text as the locale writes it, ISO date, format name)

# Unicode CLDR (v46, as shipped by babel 2.18) date patterns and names, copied by hand; the Unicode licence
# allows it. Left out: fr_FR short (= en_GB short) and es_ES short ("d/M/yy", which would make "5/3/99"
# mean both 3 May and 5 March next to en_US "M/d/yy"): every text must name exactly one date.
_NAMES = {
    "en_US": (
        "January February March April May June July August September October November December".split(),
        "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(),
        "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split(),
    ),
    "de_DE": (
        "Januar Februar März April Mai Juni Juli August September Oktober November Dezember".split(),
        "Jan. Feb. März Apr. Mai Juni Juli Aug. Sept. Okt. Nov. Dez.".split(),
        "Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag".split(),
    ),
    "fr_FR": (
        "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split(),
        "janv. févr. mars avr. mai juin juil. août sept. oct. nov. déc.".split(),
        "lundi mardi mercredi jeudi vendredi samedi dimanche".split(),
    ),
    "es_ES": (
        "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre".split(),
        "ene feb mar abr may jun jul ago sept oct nov dic".split(),
        "lunes martes miércoles jueves viernes sábado domingo".split(),
    ),
    "ja_JP": ([f"{m}月" for m in range(1, 13)], [f"{m}月" for m in range(1, 13)], list("月火水木金土日")),
    "ko_KR": ([f"{m}월" for m in range(1, 13)], [f"{m}월" for m in range(1, 13)], list("월화수목금토일")),
}
_NAMES["ja_JP"] = (*_NAMES["ja_JP"][:2], [f"{day}曜日" for day in _NAMES["ja_JP"][2]])
_NAMES["ko_KR"] = (*_NAMES["ko_KR"][:2], [f"{day}요일" for day in _NAMES["ko_KR"][2]])
_NAMES["en_GB"] = (_NAMES["en_US"][0], [*_NAMES["en_US"][1][:8], "Sept", *_NAMES["en_US"][1][9:]], _NAMES["en_US"][2])

DATE_FORMATS: dict[str, str] = {
    "en_US full": "EEEE, MMMM d, y",
    "en_US long": "MMMM d, y",
    "en_US medium": "MMM d, y",
    "en_US short": "M/d/yy",
    "en_GB full": "EEEE, d MMMM y",
    "en_GB long": "d MMMM y",
    "en_GB medium": "d MMM y",
    "en_GB short": "dd/MM/y",
    "de_DE full": "EEEE, d. MMMM y",
    "de_DE long": "d. MMMM y",
    "de_DE medium": "dd.MM.y",
    "de_DE short": "dd.MM.yy",
    "fr_FR full": "EEEE d MMMM y",
    "fr_FR long": "d MMMM y",
    "fr_FR medium": "d MMM y",
    "es_ES full": "EEEE, d 'de' MMMM 'de' y",
    "es_ES long": "d 'de' MMMM 'de' y",
    "es_ES medium": "d MMM y",
    "ja_JP full": "y年M月d日EEEE",
    "ja_JP long": "y年M月d日",
    "ja_JP medium": "y/MM/dd",
    "ko_KR full": "y년 MMMM d일 EEEE",
    "ko_KR long": "y년 MMMM d일",
    "ko_KR medium": "y. M. d.",
    "ko_KR short": "yy. M. d.",
}
# Two-digit years ("yy") are read as Python's strptime reads %y: 69-99 -> 1969-1999, 00-68 -> 2000-2068.
# The task's dates stay inside that window, so that every text names exactly one date.
FIRST_DATE, LAST_DATE = date(1969, 1, 1), date(2068, 12, 31)
_FIELD = re.compile(r"'[^']*'|y+|M+|d+|E+|.")
_TWO_DIGIT_YEAR = {name for name, pattern in DATE_FORMATS.items() if "yy" in _FIELD.findall(pattern)}


def _check_formats(formats: Sequence[str], name: str = "formats") -> list[str]:
    if isinstance(formats, str):
        raise TypeError(f"{name} must be a list of format names, got the string {formats!r}; wrap it: [{formats!r}]")
    unknown = [f for f in formats if f not in DATE_FORMATS]
    if unknown:
        raise ValueError(f"unknown date format(s) {unknown} in {name}; known: {list(DATE_FORMATS)}")
    return list(formats)


def format_date(day: date, format_name: str) -> str:
    """``format_date(date(2026, 11, 24), "de_DE full")`` -> ``"Dienstag, 24. November 2026"``.

    A format with a two-digit year ("yy": en_US, de_DE and ko_KR short) writes only days of 1969-2068,
    the window the task reads two-digit years in: "6/1/50" names 2050, so 1950 is refused, not written.
    """
    if not isinstance(day, date):
        raise TypeError(f"day must be a datetime.date, got {type(day).__name__} {day!r}; e.g. date(2026, 11, 24)")
    if not isinstance(format_name, str) or format_name not in DATE_FORMATS:
        raise ValueError(f"unknown date format {format_name!r}; known: {list(DATE_FORMATS)}")
    if format_name in _TWO_DIGIT_YEAR and not FIRST_DATE.year <= day.year <= LAST_DATE.year:
        raise ValueError(
            f"{format_name!r} writes the year in two digits, which the task reads as {FIRST_DATE.year}-"
            f"{LAST_DATE.year} (69-99 -> 19xx, 00-68 -> 20xx), so {day.isoformat()} would be read back as "
            "another year; choose a format with four digits, or a day inside that window"
        )
    months, short_months, weekdays = _NAMES[format_name.split()[0]]
    fields = {
        "y": str(day.year),
        "yy": f"{day.year % 100:02d}",
        "M": str(day.month),
        "MM": f"{day.month:02d}",
        "MMM": short_months[day.month - 1],
        "MMMM": months[day.month - 1],
        "d": str(day.day),
        "dd": f"{day.day:02d}",
        "EEEE": weekdays[day.weekday()],
    }
    parts = []
    for token in _FIELD.findall(DATE_FORMATS[format_name]):
        parts.append(token[1:-1] if token.startswith("'") else fields.get(token, token))
    return "".join(parts)


def _check_count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number of days >= 0, got {value!r}")
    return value


def split_dates(
    validation: int = 1000, test: int = 2000, seed: int = 0, *, years: tuple[int, int] | None = None
) -> dict[str, list[date]]:
    """Every day from 1969-01-01 to 2068-12-31, shuffled and cut into ``train`` / ``validation`` / ``test``.

    The cut is by *date*: a held-out day never appears in training, in any format. With ``years=(first,
    last)`` only the days of those years are cut so; the others are returned as ``other_years``.
    """
    validation, test = _check_count(validation, "validation"), _check_count(test, "test")
    days = [FIRST_DATE + timedelta(days=offset) for offset in range((LAST_DATE - FIRST_DATE).days + 1)]
    other: list[date] = []
    if years is not None:
        if (
            not isinstance(years, (tuple, list))
            or len(years) != 2
            or any(isinstance(year, bool) or not isinstance(year, int) for year in years)
        ):
            raise ValueError(f"years must be a pair of whole years (first, last), e.g. (1975, 2059), got {years!r}")
        first, last = years
        if not FIRST_DATE.year <= first <= last <= LAST_DATE.year:
            raise ValueError(
                f"years must be (first, last) with {FIRST_DATE.year} <= first <= last <= "
                f"{LAST_DATE.year}, got {years!r}"
            )
        other = [day for day in days if not first <= day.year <= last]
        days = [day for day in days if first <= day.year <= last]
    if validation + test >= len(days):
        raise ValueError(f"validation + test ({validation + test}) must leave training days out of {len(days)}")
    python_random(seed).shuffle(days)
    python_random(seed, "dates.format_shuffle").shuffle(other)
    cut = {
        "validation": days[:validation],
        "test": days[validation : validation + test],
        "train": days[validation + test :],
    }
    return {**cut, "other_years": other} if years is not None else cut


def date_examples(days: Sequence[date], formats: Sequence[str] | None = None, seed: int = 0) -> list[Example]:
    """One ``(text, ISO date, format name)`` per day, the format drawn at random (with ``seed``) from ``formats``."""
    formats = list(DATE_FORMATS) if formats is None else _check_formats(formats)
    if not formats:
        raise ValueError("formats is empty: give at least one format name from DATE_FORMATS")
    rng = python_random(seed)
    examples = []
    for day in days:
        name = rng.choice(formats)
        examples.append((format_date(day, name), day.isoformat(), name))
    return examples


@dataclass
class DateTask:
    """The date task cut for notebook 05: training days and formats, and three held-out sets of examples.

    - ``validation``, ``test``: held-out days of the training years, in the training formats;
    - ``held_out_format``: the test days again, written only in formats never used in training;
    - ``other_years``: days outside the training years, in the training formats.
    """

    train_days: list[date]
    training_formats: list[str]
    held_out_formats: list[str]
    years: tuple[int, int]
    validation: list[Example]
    test: list[Example]
    held_out_format: list[Example]
    other_years: list[Example]

    def training_examples(self, epoch: int) -> list[Example]:
        """Every training day once, in a format drawn afresh for each ``epoch`` (deterministic per epoch)."""
        return date_examples(self.train_days, self.training_formats, seed=epoch)


def date_task(
    *,
    held_out_formats: Sequence[str] = ("fr_FR medium", "ko_KR short"),
    years: tuple[int, int] = (1975, 2059),
    validation: int = 1000,
    test: int = 2000,
    other_years: int = 2000,
    seed: int = 0,
) -> DateTask:
    """Cut the date task by day, by format and by year (see :class:`DateTask`); deterministic given ``seed``."""
    held_out = _check_formats(held_out_formats, "held_out_formats")
    training_formats = [name for name in DATE_FORMATS if name not in held_out]
    if not training_formats:
        raise ValueError("held_out_formats holds every format: leave at least one for training")
    other_years = _check_count(other_years, "other_years")
    days = split_dates(validation, test, seed, years=years)
    return DateTask(
        train_days=days["train"],
        training_formats=training_formats,
        held_out_formats=held_out,
        years=years,
        validation=date_examples(days["validation"], training_formats, seed=seed_stream("dates.validation", seed)),
        test=date_examples(days["test"], training_formats, seed=seed_stream("dates.test", seed)),
        held_out_format=date_examples(days["test"], held_out, seed=seed_stream("dates.held_out_format", seed))
        if held_out
        else [],
        other_years=date_examples(
            days["other_years"][:other_years], training_formats, seed=seed_stream("dates.other_years", seed)
        ),
    )
