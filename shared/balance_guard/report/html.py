"""`out/report.html`: the night at a glance, for someone who has never seen the JSON.

The page is for operations and reads in English; its words are marked `_("…")` in the
template and go through `text.i18n`, so a French page is a translation away. May import
the domain, the report model and `text`.
"""

from __future__ import annotations

from collections import Counter

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from balance_guard.domain.policy import Policy
from balance_guard.report.details import money, readable_details
from balance_guard.report.model import AccountReport, Report
from balance_guard.text.i18n import gettext

LANGUAGE = "en"

_env = Environment(
    loader=PackageLoader("balance_guard.report", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _(message: str) -> Markup:
    """A template's message in the page's language. Our own catalog's words, trusted as
    markup (a message may hold `<strong>`) as Jinja's i18n extension does; the values put
    into it with `.format` are escaped."""
    return Markup(gettext(message, LANGUAGE))  # noqa: S704 - the catalog, not user input


def _bar(position: dict[str, object]) -> dict[str, object]:
    """Widths (percent) of the capacity bar against the exposure marker."""
    exposure = int(position["exposure"])  # type: ignore[call-overload]
    capacity = int(position["capacity"])  # type: ignore[call-overload]
    scale = max(exposure, capacity, 1)
    return {
        **position,
        "capacity_pct": round(100 * max(capacity, 0) / scale, 1),
        "exposure_pct": round(100 * exposure / scale, 1),
        "short": exposure > 0 and capacity < exposure,
    }


def _severity_rank(account: AccountReport) -> int:
    order = ["error", "critical", "warning", "info", "ok"]
    return order.index(account.status)


def render_report_html(report: Report, policy: Policy) -> str:
    accounts = sorted(report.accounts, key=lambda a: (_severity_rank(a), a.name.lower()))
    template = _env.get_template("report.html.j2")
    return template.render(
        report=report,
        accounts=[(a, [_bar(p) for p in a.positions]) for a in accounts],
        counts=Counter(a.status for a in report.accounts),
        money=money,
        details=readable_details,
        docs_base_url=policy.docs_base_url.rstrip("/"),
        _=_,
    )
