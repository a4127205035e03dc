"""With injected faults every account ends checked or CHECK_FAILED, nothing is sent
twice, and the report is always written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from balance_guard.cli.main import main
from balance_guard.sandbox.scenario import load_scenario


def run(sandbox: Any, tmp_path: Path, name: str) -> tuple[int, dict[str, Any]]:
    report = tmp_path / f"{name}.json"
    code = main(["run", "--stripe-api-base", sandbox.base_url, "--api-key", sandbox.secret_key,
                 "--as-of", "2026-08-01", "--state", str(tmp_path / "state.sqlite"),
                 "--outbox", str(tmp_path / "outbox"), "--report-json", str(report),
                 "--max-rps", "500"])
    return code, json.loads(report.read_text())


def test_ten_percent_faults_never_lose_an_account_or_resend(serve: Any, tmp_path: Path) -> None:
    platform = load_scenario(None)
    sandbox = serve(platform, fault_rate=0.1, seed=7)
    code, first = run(sandbox, tmp_path, "first")
    assert code in (0, 1)
    ids = {a.id for a in platform.accounts}
    assert {a["account_id"] for a in first["accounts"]} == ids
    for account in first["accounts"]:
        assert account["status"] != "error" or account["findings"][0]["code"] == "CHECK_FAILED"
    sent_first = {a["account_id"] for a in first["accounts"] if a["emails"]}
    assert sent_first
    written = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "outbox").glob("acct_*.eml")}

    _, second = run(sandbox, tmp_path, "second")
    # The rerun reports the emails the first run sent (from the send log), and no new one.
    first_ids = {e["message_id"] for a in first["accounts"] for e in a["emails"]}
    resent = {a["account_id"] for a in second["accounts"]
              if any(e["message_id"] not in first_ids for e in a["emails"])}
    assert resent == set()
    assert {a["account_id"] for a in second["accounts"] if a["emails"]} >= sent_first
    # the outbox overwrites by account and date, so a resend would show as a rewritten file
    rewritten = {p.name for p in (tmp_path / "outbox").glob("acct_*.eml")
                 if p.name in written and p.stat().st_mtime_ns != written[p.name]}
    assert rewritten == set()
