"""Episodes: one case per station and rule, later exceedances join it, recovery is noted once."""

from __future__ import annotations

from civicgrid.monitoring.rules import DEFAULT_RULES, Episode, closed, step


def run(verdicts: list[bool | None], consecutive: int = 2, ep: Episode | None = None) -> list[str | None]:
    ep = ep or Episode()
    out: list[str | None] = []
    for v in verdicts:
        s = step(ep, v, consecutive)
        ep = s.episode
        out.append(s.action)
    return out


def test_two_hours_over_open_exactly_one_case_and_later_hours_join_it() -> None:
    assert run([True, True, True, False, True]) == [None, "open", "add", None, "add"]


def test_one_hour_over_then_normal_opens_nothing() -> None:
    assert run([True, False, True, False]) == [None, None, None, None]


def test_missing_windows_neither_break_nor_extend_a_run() -> None:
    assert run([True, None, True]) == [None, None, "open"]


def test_recovery_is_noted_once_after_the_same_count_of_normal_windows() -> None:
    assert run([True, True, False, False, False, True]) == [None, "open", None, "recovered", None, "add"]


def test_after_the_case_closes_a_new_episode_needs_the_full_run_again() -> None:
    ep = Episode()
    for v in (True, True):
        ep = step(ep, v, 2).episode
    ep = closed(ep)
    assert run([True, True], ep=ep) == [None, "open"]


def test_the_default_rules_follow_spec_10() -> None:
    by = {r.code: r for r in DEFAULT_RULES}
    assert (by["air-aqi"].threshold, by["air-aqi"].consecutive, by["air-aqi"].category_code) == (
        200,
        2,
        "E0601",
    )
    assert by["dust-pm10"].measure == "a34002" and by["dust-pm10"].category_code == "E0302"
    assert by["water-class"].category_code == "E0606" and by["silence"].category_code == "E0607"
