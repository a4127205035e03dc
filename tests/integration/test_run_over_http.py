"""The nightly run through the real Stripe SDK over real HTTP to the sandbox."""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from balance_guard.cli.main import main
from tests.integration.conftest import KEY, account, scenario

AS_OF = "2026-08-01"


def run_cli(
    sandbox: Any, tmp_path: Path, *extra: str, key: str = KEY
) -> tuple[int, dict[str, Any]]:
    report = tmp_path / "report.json"
    code = main([
        "run", "--stripe-api-base", sandbox.base_url, "--api-key", key, "--as-of", AS_OF,
        "--state", str(tmp_path / "state.sqlite"), "--outbox", str(tmp_path / "outbox"),
        "--report-json", str(report), "--max-rps", "500", *extra,
    ])
    return code, json.loads(report.read_text()) if report.exists() else {}


def by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["account_id"]: a for a in report["accounts"]}


def codes(entry: dict[str, Any]) -> set[str]:
    return {f["code"] for f in entry["findings"]}


def test_a_healthy_platform_exits_zero_with_a_schema_report(serve: Any, tmp_path: Path) -> None:
    sandbox = serve(scenario(account("acct_healthy01"), account("acct_healthy02")))
    code, report = run_cli(sandbox, tmp_path)
    assert code == 0
    assert report["schema"] == "balance-guard/report@1"
    assert report["as_of"] == AS_OF
    assert report["totals"]["accounts"] == 2
    assert report["totals"]["by_status"] == {"ok": 2}
    assert report["totals"]["stripe_requests"] == sandbox.request_count
    for entry in report["accounts"]:
        assert entry["status"] == "ok"
        assert entry["findings"] == []
        assert entry["error"] is None


def test_exposure_counts_partly_refunded_but_not_failed_or_old_charges(
    serve: Any, tmp_path: Path
) -> None:
    charges = [
        {"amount": 300_000, "amount_refunded": 250_000, "currency": "cad", "created": "2026-07-25"},
        {"amount": 900_000, "currency": "cad", "status": "failed", "created": "2026-07-26"},
        {"amount": 800_000, "currency": "cad", "created": "2026-04-01"},
        {"amount": 40_000, "currency": "cad", "created": "2026-07-30"},
    ]
    sandbox = serve(scenario(account(
        "acct_exposure1", charges=charges, balances={"available": {"cad": 0}},
        balance_settings={"minimum_balance_by_currency": None})))
    _, report = run_cli(sandbox, tmp_path)
    finding = next(f for f in report["accounts"][0]["findings"]
                   if f["code"] == "REFUND_CAPACITY_SHORT")
    assert finding["details"]["exposure"] == 50_000
    assert finding["details"]["cause"] == "no_minimum_balance"
    assert finding["amount"] == 50_000


def test_zero_decimal_amounts_stay_in_whole_yen(serve: Any, tmp_path: Path) -> None:
    sandbox = serve(scenario(account(
        "acct_tokyo0001", country="JP", default_currency="jpy",
        balances={"available": {"jpy": -1_200}},
        balance_settings={"minimum_balance_by_currency": None},
        charges=[{"amount": 12_001, "currency": "jpy", "created": "2026-07-30"}])))
    _, report = run_cli(sandbox, tmp_path)
    findings = {f["code"]: f for f in report["accounts"][0]["findings"]}
    assert findings["NEGATIVE_BALANCE"]["amount"] == 1_200
    assert findings["MIN_BALANCE_NOT_SET"]["amount"] == 12_050
    assert findings["MIN_BALANCE_NOT_SET"]["currency"] == "jpy"


def test_manual_and_disabled_payouts_over_http(serve: Any, tmp_path: Path) -> None:
    sandbox = serve(scenario(
        account("acct_manual001", payout_schedule={"interval": "manual"},
                balances={"available": {"cad": 10_000}}),
        account("acct_disabled1", payouts_enabled=False, balances={"available": {"cad": 10_000}}),
        account("acct_stopped01", balance_settings={
            "minimum_balance_by_currency": {"cad": 100_000}, "payouts_status": "disabled"}),
    ))
    _, report = run_cli(sandbox, tmp_path)
    accounts = by_id(report)
    manual = accounts["acct_manual001"]
    assert "PAYOUTS_DISABLED" not in codes(manual)
    short = next(f for f in manual["findings"] if f["code"] == "REFUND_CAPACITY_SHORT")
    assert short["details"]["cause"] == "manual_payouts"
    assert "PAYOUTS_DISABLED" in codes(accounts["acct_disabled1"])
    assert "PAYOUTS_DISABLED" in codes(accounts["acct_stopped01"])


def test_weekly_and_monthly_schedules_are_read_from_balance_settings(
    serve: Any, tmp_path: Path
) -> None:
    sandbox = serve(scenario(
        account("acct_weekly001", payout_schedule={"interval": "weekly",
                                                   "weekly_payout_days": ["friday"]}),
        account("acct_monthly01", payout_schedule={"interval": "monthly",
                                                   "monthly_payout_days": [31]}),
    ))
    code, report = run_cli(sandbox, tmp_path)
    assert code == 0
    assert all(a["status"] == "ok" for a in report["accounts"])


def test_one_account_failing_is_check_failed_and_exit_one(serve: Any, tmp_path: Path) -> None:
    sandbox = serve(scenario(account("acct_healthy01"), account("acct_broken01", fail_with=500),
                             account("acct_healthy02")))
    code, report = run_cli(sandbox, tmp_path)
    assert code == 1
    accounts = by_id(report)
    broken = accounts["acct_broken01"]
    assert broken["status"] == "error"
    assert [f["code"] for f in broken["findings"]] == ["CHECK_FAILED"]
    assert "500" in broken["error"]
    assert accounts["acct_healthy01"]["status"] == "ok"
    assert accounts["acct_healthy02"]["status"] == "ok"


def test_rate_limited_requests_are_retried_and_the_run_completes(
    serve: Any, tmp_path: Path
) -> None:
    sandbox = serve(scenario(*(account(f"acct_ratelim{i:02d}") for i in range(6))),
                    rate_limit_rps=8)
    code, report = run_cli(sandbox, tmp_path, "--concurrency", "6")
    assert code == 0
    # 2 platform requests and 5 per building succeed; the rest were 429s answered and retried
    assert sandbox.request_count > 2 + 5 * 6
    assert report["totals"]["by_status"] == {"ok": 6}


def test_a_rejected_platform_key_exits_three(serve: Any, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    sandbox = serve(scenario(account("acct_healthy01")))
    wrong = "sk_test_wrongWRONGwrong99"
    code, _ = run_cli(sandbox, tmp_path, key=wrong)
    assert code == 3
    err = capsys.readouterr().err
    assert "rejected the platform key" in err
    assert wrong not in err


def test_an_unreachable_platform_exits_three(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--stripe-api-base", "http://127.0.0.1:9", "--api-key", KEY,
                 "--as-of", AS_OF, "--state", str(tmp_path / "s.sqlite"), "--outbox",
                 str(tmp_path / "o")])
    assert code == 3
    assert "could not be reached" in capsys.readouterr().err


def test_the_key_never_appears_in_output_or_logs(
    serve: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    sandbox = serve(scenario(account("acct_healthy01"), account("acct_broken01", fail_with=500)))
    with caplog.at_level(logging.DEBUG):
        run_cli(sandbox, tmp_path, "--verbose", "--report-html", str(tmp_path / "r.html"))
    out = capsys.readouterr()
    everything = out.out + out.err + caplog.text + (tmp_path / "report.json").read_text() + (
        tmp_path / "r.html").read_text()
    assert KEY not in everything
    assert KEY[8:20] not in everything  # not even partly


def test_the_product_never_writes_to_stripe(serve: Any, tmp_path: Path) -> None:
    sandbox = serve(scenario(account("acct_healthy01"), account("acct_healthy02")))
    run_cli(sandbox, tmp_path)
    assert sandbox.write_attempts == 0
    assert {method for method, _path, _acct in sandbox.requests} == {"GET"}


def test_bad_metadata_is_reported_and_the_check_goes_on(serve: Any, tmp_path: Path) -> None:
    sandbox = serve(scenario(account("acct_badmeta01", metadata={
        "balance_guard_prefund_target_cad": "lots", "balance_guard_locale": "de"})))
    code, report = run_cli(sandbox, tmp_path)
    entry = report["accounts"][0]
    assert code == 0
    assert entry["status"] == "ok"
    assert entry["locale"] == "en"
    assert any("balance_guard_locale" in n for n in entry["notices"])
    assert any("balance_guard_prefund_target_cad" in n for n in entry["notices"])


def test_unavailable_balance_settings_mean_minimum_unknown(serve: Any, tmp_path: Path) -> None:
    sandbox = serve(scenario(account("acct_express01", balance_settings="unavailable")))
    _, report = run_cli(sandbox, tmp_path)
    entry = report["accounts"][0]
    assert entry["status"] != "error"
    assert "MIN_BALANCE_NOT_SET" not in codes(entry)
    assert any("minimum balance unknown" in n for n in entry["notices"])


def test_a_platform_without_reserves_access_is_one_loud_platform_notice(
    serve: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    sandbox = serve(scenario(*(account(f"acct_healthy{i:02d}") for i in range(5)),
                             reserves=False))
    code, report = run_cli(sandbox, tmp_path, "--concurrency", "1")
    assert code == 3  # every account's reserves are unknown: the key's problem, said loudly
    assert all(a["reserves_known"] is False for a in report["accounts"])
    assert all(a["status"] == "ok" for a in report["accounts"])  # every other rule ran
    [notice] = report["notices"]
    assert notice.startswith("Stripe refused the Reserves API to this platform (Stripe 403")
    assert not any(n.startswith("reserves unknown") for a in report["accounts"]
                   for n in a["notices"])
    reserve_calls = [p for _m, p, _a in sandbox.requests if p.startswith("/v1/reserve")]
    assert len(reserve_calls) == 3  # three refusals before any success: not asked again
    assert "platform: Stripe refused the Reserves API" in capsys.readouterr().out


def test_one_accounts_reserves_refused_leaves_the_others_reserves_known(
    serve: Any, tmp_path: Path,
) -> None:
    held = {"reserve_holds": [{"amount": 40_000, "currency": "cad", "created": "2026-07-20",
                               "release_after": "2026-08-20"}]}
    sandbox = serve(scenario(
        account("acct_reserved1", **held),
        account("acct_refused01", fail_with=403, fail_on=["reserve_holds"], **held),
        account("acct_reserved2", **held),
    ))
    code, report = run_cli(sandbox, tmp_path, "--concurrency", "1")
    accounts = by_id(report)
    assert code == 0
    assert report["notices"] == []
    assert accounts["acct_refused01"]["reserves_known"] is False
    assert any(n.startswith("reserves unknown: Stripe 403")
               for n in accounts["acct_refused01"]["notices"])
    for ident in ("acct_reserved1", "acct_reserved2"):
        assert accounts[ident]["reserves_known"] is True
        assert accounts[ident]["reserve_releases"], ident


def test_a_malformed_charge_is_skipped_with_a_notice(serve: Any, tmp_path: Path) -> None:
    sandbox = serve(scenario(account("acct_oddcharge", object_overrides={
        "charge": {"amount": "a lot"}})))
    code, report = run_cli(sandbox, tmp_path)
    entry = report["accounts"][0]
    assert code == 0
    assert any("malformed" in n for n in entry["notices"])


def test_a_malformed_balance_fails_only_that_account(serve: Any, tmp_path: Path) -> None:
    sandbox = serve(scenario(account("acct_oddbalanc", object_overrides={
        "balance": {"available": "nothing"}}), account("acct_healthy01")))
    code, report = run_cli(sandbox, tmp_path)
    accounts = by_id(report)
    assert code == 1
    assert "malformed balance" in accounts["acct_oddbalanc"]["error"]
    assert accounts["acct_healthy01"]["status"] == "ok"


def test_account_option_checks_only_those_accounts(serve: Any, tmp_path: Path) -> None:
    sandbox = serve(scenario(account("acct_healthy01"), account("acct_healthy02")))
    code, report = run_cli(sandbox, tmp_path, "--account", "acct_healthy02")
    assert code == 0
    assert [a["account_id"] for a in report["accounts"]] == ["acct_healthy02"]


def test_an_unknown_account_option_is_a_usage_error(serve: Any, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    sandbox = serve(scenario(account("acct_healthy01")))
    code, _ = run_cli(sandbox, tmp_path, "--account", "acct_nosuch0001")
    assert code == 2
    assert "acct_nosuch0001" in capsys.readouterr().err


def test_second_night_reads_incrementally_and_sees_prefund_use(serve: Any, tmp_path: Path) -> None:
    building = account(
        "acct_prefund01", balances={"available": {"cad": 150_000},
                                    "prefunding": {"available": {"cad": 80_000}}},
        balance_history={"2026-08-02": {"prefunding": {"available": {"cad": 30_000}}}},
        charges=[{"amount": 5_000, "currency": "cad", "created": "2026-07-31T10:00:00",
                  "count": 250, "every_minutes": 300}],
    )
    sandbox = serve(scenario(building))
    run_cli(sandbox, tmp_path)
    first = sandbox.request_count
    sandbox.set_clock(date(2026, 8, 2))
    report_path = tmp_path / "night2.json"
    code = main(["run", "--stripe-api-base", sandbox.base_url, "--api-key", KEY,
                 "--as-of", "2026-08-02", "--state", str(tmp_path / "state.sqlite"),
                 "--outbox", str(tmp_path / "outbox"), "--report-json", str(report_path)])
    assert code == 0
    second = sandbox.request_count - first
    report = json.loads(report_path.read_text())
    used = next(f for f in report["accounts"][0]["findings"] if f["code"] == "PREFUND_USED")
    assert used["amount"] == 50_000
    # Night 1 pages through 250 charges; night 2 costs the platform check, the account list
    # and five reads for the building.
    assert first >= 3 + 5
    assert second == 2 + 5


def test_a_malformed_account_in_the_list_is_reported_not_lost(serve: Any, tmp_path: Path) -> None:
    sandbox = serve(scenario(account("acct_oddaccnt1", object_overrides={
        "account": {"metadata": "not a mapping"}}), account("acct_healthy01")))
    code, report = run_cli(sandbox, tmp_path)
    accounts = by_id(report)
    assert code == 1
    assert accounts["acct_oddaccnt1"]["status"] == "error"
    assert "malformed account" in accounts["acct_oddaccnt1"]["error"]
    assert accounts["acct_healthy01"]["status"] == "ok"


@pytest.mark.parametrize(("env", "message"), [
    ({"STRIPE_MAX_RPS": "abc"}, "max-rps"),
    ({"BALANCE_GUARD_TIMEZONE": "Mars/Olympus"}, "time zone"),
    ({"BALANCE_GUARD_LOOKBACK_DAYS": "0"}, "exposure_lookback_days"),
])
def test_configuration_errors_exit_two_with_one_line(
    env: dict[str, str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    try:
        code = main(["run", "--as-of", AS_OF, "--state", str(tmp_path / "s.sqlite")])
    except SystemExit as exit_:  # argparse reports its own errors this way
        code = int(exit_.code or 0)
    assert code == 2
    assert message in capsys.readouterr().err


def test_a_future_night_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--as-of", "2999-01-01", "--state", str(tmp_path / "s.sqlite")])
    assert code == 2
    assert "future" in capsys.readouterr().err


def test_check_does_not_move_the_nightly_baseline(serve: Any, tmp_path: Path) -> None:
    sandbox = serve(scenario(account("acct_healthy01")))
    state = tmp_path / "state.sqlite"
    code = main(["check", "acct_healthy01", "--stripe-api-base", sandbox.base_url,
                 "--api-key", KEY, "--as-of", AS_OF, "--state", str(state)])
    assert code == 0
    from balance_guard.check.state_store import SqliteStateStore

    assert SqliteStateStore(state).load("acct_healthy01").cursor is None


@pytest.mark.parametrize(("bad_id", "shown"), [(None, "(id None)"), (42, "(id 42)")])
def test_an_account_listed_without_a_usable_id_is_reported_not_dropped(
    serve: Any, tmp_path: Path, bad_id: object, shown: str,
) -> None:
    sandbox = serve(scenario(account("acct_healthy01"),
                             account("acct_noident01", object_overrides={"account": {
                                 "id": bad_id}})))
    code, report = run_cli(sandbox, tmp_path)
    accounts = by_id(report)
    assert code == 1
    assert set(accounts) == {"acct_healthy01", shown}
    assert accounts[shown]["status"] == "error"
    assert "malformed account object" in accounts[shown]["error"]
