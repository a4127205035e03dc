"""The demo's promise: the built-in sample platform, checked on two nights, shows every rule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from balance_guard.cli.main import main
from balance_guard.domain.findings import CapacityShortCause, RuleCode


@pytest.fixture(scope="module")
def two_nights(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[int], list[dict[str, Any]]]:
    out = tmp_path_factory.mktemp("demo")
    env_free_args = ["--state", str(out / "state.sqlite"), "--outbox", str(out / "outbox")]
    codes, reports = [], []
    for night in ("2026-08-01", "2026-08-02"):
        path = out / f"{night}.json"
        codes.append(main(["run", "--as-of", night, *env_free_args, "--report-json", str(path),
                           "--report-html", str(out / f"{night}.html")]))
        reports.append(json.loads(path.read_text()))
    return codes, reports


def test_without_a_key_the_sandbox_platform_is_checked(
    two_nights: tuple[list[int], list[dict[str, Any]]],
) -> None:
    codes, reports = two_nights
    assert codes == [1, 1]  # one building's check fails on purpose
    assert all(r["totals"]["accounts"] >= 12 for r in reports)


def test_every_rule_code_and_cause_occurs(
    two_nights: tuple[list[int], list[dict[str, Any]]],
) -> None:
    _, reports = two_nights
    findings = [f for r in reports for a in r["accounts"] for f in a["findings"]]
    assert {f["code"] for f in findings} == {code.value for code in RuleCode}
    causes = {f["details"]["cause"] for f in findings if "cause" in f["details"]}
    spec_causes = {"manual_payouts", "no_minimum_balance", "minimum_below_exposure",
                   "balance_below_minimum"}
    assert spec_causes <= causes <= {cause.value for cause in CapacityShortCause}


def test_the_platform_mixes_languages_currencies_and_schedules(
    two_nights: tuple[list[int], list[dict[str, Any]]],
) -> None:
    _, reports = two_nights
    accounts = reports[1]["accounts"]
    assert {a["locale"] for a in accounts} == {"fr", "en", "fr+en"}
    currencies = {f["currency"] for a in accounts for f in a["findings"] if f["currency"]}
    assert {"cad", "usd", "jpy"} <= currencies


def test_reserve_releases_carry_payout_and_arrival_dates(
    two_nights: tuple[list[int], list[dict[str, Any]]],
) -> None:
    _, reports = two_nights
    releases = [r for a in reports[1]["accounts"] for r in a["reserve_releases"]]
    assert releases
    for release in releases:
        assert release["release_date"] > reports[1]["as_of"]
        assert release["arrival_date"] > release["payout_date"] >= release["release_date"]


def test_steady_state_costs_about_five_requests_per_building(
    two_nights: tuple[list[int], list[dict[str, Any]]],
) -> None:
    _, reports = two_nights
    totals = reports[1]["totals"]
    assert totals["stripe_requests"] / totals["accounts"] <= 6


def test_check_prints_one_account(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(["check", "acct_1TdpToursDuParc", "--as-of", "2026-08-02",
                 "--state", str(tmp_path / "s.sqlite"), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["schema"] == "balance-guard/report@1"
    [account] = report["accounts"]
    assert account["name"] == "Les Tours du Parc"
    assert account["status"] == "critical"
    assert account["emails"] == []


def test_check_table_for_people(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(["check", "acct_1TdpToursDuParc", "--as-of", "2026-08-02",
                 "--state", str(tmp_path / "s.sqlite")])
    out = capsys.readouterr().out
    assert code == 0
    assert "Les Tours du Parc" in out
    assert "NEGATIVE_BALANCE" in out


def test_check_of_an_unknown_account_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    code = main(["check", "acct_doesnotexist", "--state", str(tmp_path / "s.sqlite")])
    assert code == 2
    assert "acct_doesnotexist" in capsys.readouterr().err


def test_explain_in_french(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "refund-capacity-short", "--locale", "fr"]) == 0
    out = capsys.readouterr().out
    assert "/fr/rules.html#rule-refund-capacity-short" in out


def test_explain_an_unknown_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "NOT_A_RULE"]) == 2
    assert "NOT_A_RULE" in capsys.readouterr().err
