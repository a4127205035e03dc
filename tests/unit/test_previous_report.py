"""`run --previous-report-json`: an earlier night's report marks what is new in report.html."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from balance_guard.cli.main import main
from balance_guard.report.model import Report
from balance_guard.sandbox import Sandbox
from tests.unit.test_report_csv import KEY, account, scenario


@pytest.fixture
def platform() -> Iterator[Sandbox]:
    with Sandbox(scenario(account("acct_healthy001"),
                          account("acct_critical01", balances={"available": {"cad": -20_000}})),
                 ) as sandbox:
        yield sandbox


def run(sandbox: Sandbox, tmp_path: Path, as_of: str, *extra: str) -> int:
    return main(["run", "--stripe-api-base", sandbox.base_url, "--api-key", KEY,
                 "--as-of", as_of, "--state", str(tmp_path / "state.sqlite"),
                 "--outbox", str(tmp_path / "outbox"), "--max-rps", "500", *extra])


def test_what_the_earlier_night_already_had_is_not_marked_new(
    platform: Sandbox, tmp_path: Path,
) -> None:
    first, second = tmp_path / "night-1.json", tmp_path / "night-2.html"
    assert run(platform, tmp_path, "2026-08-01", "--report-json", str(first)) == 0
    assert run(platform, tmp_path, "2026-08-02", "--report-html", str(second),
               "--previous-report-json", str(first)) == 0
    page = second.read_text(encoding="utf-8")
    assert "not found on the night of" in page
    assert "No report of an earlier night to compare with" not in page
    assert "pill new" not in page  # the same finding both nights


def test_a_finding_the_earlier_night_did_not_have_is_marked_new(
    platform: Sandbox, tmp_path: Path,
) -> None:
    first, second = tmp_path / "night-1.json", tmp_path / "night-2.html"
    assert run(platform, tmp_path, "2026-08-01", "--report-json", str(first)) == 0
    earlier = Report.model_validate_json(first.read_bytes())
    for checked in earlier.accounts:
        checked.findings.clear()  # as if the building had been fine that night
    first.write_text(earlier.to_json(), encoding="utf-8")

    assert run(platform, tmp_path, "2026-08-02", "--report-html", str(second),
               "--previous-report-json", str(first)) == 0
    assert "pill new" in second.read_text(encoding="utf-8")


@pytest.mark.parametrize(("content", "why"), [
    (None, "No such file or directory"),
    ("{not json", "not a Balance Guard report"),
    ('{"schema": "something else"}', "not a Balance Guard report"),
])
def test_an_unreadable_previous_report_is_one_line_and_exit_two_before_any_read(
    platform: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    content: str | None, why: str,
) -> None:
    previous = tmp_path / "previous.json"
    if content is not None:
        previous.write_text(content, encoding="utf-8")

    assert run(platform, tmp_path, "2026-08-02", "--previous-report-json", str(previous)) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"balance-guard: --previous-report-json {previous}: {why}"]
    assert platform.request_count == 0
