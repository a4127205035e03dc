"""One French typography on every surface that writes French: the emails, the operations
digest, `explain`, `reserve-simulate` and the help site.

The same probe sentence, typed as a translator would (ordinary spaces, a typewriter
apostrophe), is put in the French catalogs of a message each surface shows; every surface
must print it set by the one rule (`text.typography`): U+00A0 before ":" and inside « »,
no space before ; ? !, ’, and a figure or a date that never breaks. Then each surface's
whole French output, real words and all, is scanned for any breach of the rule.

The run report and the console summary are written in English only, so they have no
French to set.
"""

from __future__ import annotations

import email
import gettext as _gettext
import html
import json
import re
import sys
from collections.abc import Callable, Iterator
from email import policy
from pathlib import Path
from typing import Any

import pytest

from balance_guard.cli.explain import render_explain
from balance_guard.cli.main import main
from balance_guard.domain import catalog
from balance_guard.domain.findings import RuleCode
from balance_guard.text import i18n

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "shared" / "balance_guard" / "cli" / "examples"
N = "\u00a0"

# The probe, as typed into a catalog, and as every reader must see it.
PROBE = "Note : « Résidence Saint-Laurent » ; prêt ? oui ! l'argent, 1 650,00 $ US le 2 août"
PROBE_SET = (f"Note{N}: «{N}Résidence Saint-Laurent{N}»; prêt? oui! l’argent, "
             f"1{N}650,00{N}${N}US le 2{N}août")

# Messages the probe replaces: a rule's title (emails, their subject, `explain`, the help
# site's rule catalog), its operator title (the digest) and a line of `reserve-simulate`.
SIMULATE_PAYOUTS = ("Payouts: {schedule}, on bank business days ({country}); a payout reaches "
                    "the bank {arrival} business days after it is sent.")
PROBED = {
    catalog.CATALOG[RuleCode.NEGATIVE_BALANCE].text.title: PROBE,
    catalog.OPERATOR_TITLES[RuleCode.NEGATIVE_BALANCE]: PROBE,
    SIMULATE_PAYOUTS: PROBE + " ({schedule}, {country}, {arrival})",
}

# A real sentence of the catalog, as the French reader must see it wherever it is shown:
# the negative balance's action names the help page in Stripe's French words.
HELP_PAGE = (f"en suivant la page d’aide «{N}Ajouter des fonds pour les remboursements et les "
             f"différends{N}».")

# Every breach of the rule a French text can show (values such as a building's name or a
# Stripe error are removed before the scan: they are shown as written).
BREACHES = {
    "breakable space before a colon": re.compile(r"[ \t\u202f]:(?=\s|$)"),
    "colon glued to a word": re.compile(r"[^\W\d_»)*]:(?=\s|$)"),
    "no no-break space after «": re.compile(r"«(?!\u00a0)"),
    "no no-break space before »": re.compile(r"(?<!\u00a0)»"),
    "space before ; ? !": re.compile(r"[ \u00a0\u202f][;?!](?=\s|$)"),
    "narrow no-break space": re.compile("\u202f"),
    "breakable space in a figure": re.compile(r"\d (?:\d{3}(?!\d)|[%$€])"),
    "breakable space between a day and its month": re.compile(
        r"\b(?:\d{1,2}|1er) (?:janvier|février|mars|avril|mai|juin|juillet|août|septembre"
        r"|octobre|novembre|décembre)\b"),
    "typewriter apostrophe": re.compile(r"(?<=\w)'(?=\w)"),
}


def breaches(text: str) -> list[str]:
    return [f"{name}: {text[max(0, m.start() - 30):m.end() + 20]!r}"
            for name, pattern in BREACHES.items() for m in pattern.finditer(text)]


def visible(page: str) -> str:
    """The text a reader sees in an HTML page or email."""
    page = re.sub(r"(?is)<(script|style|head)\b.*?</\1>|<!--.*?-->", "", page)
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def unwrapped(text: str) -> str:
    """Text wrapped at ordinary spaces (a console's), as one line: a no-break space is
    never a place to wrap, so it is kept."""
    return re.sub(r"[ \n]+", " ", text)


class _Probed(_gettext.NullTranslations):
    def __init__(self, real: _gettext.NullTranslations) -> None:
        super().__init__()
        self.real = real

    def gettext(self, message: str) -> str:
        return PROBED.get(message) or self.real.gettext(message)


def _clear_caches() -> None:
    """Forget every translation a module of the product has cached."""
    for name, module in list(sys.modules.items()):
        if name.startswith(("balance_guard", "balance_guard_docs")):
            for value in vars(module).values():
                clear = getattr(value, "cache_clear", None)
                if callable(clear):
                    clear()


@pytest.fixture(scope="module")
def probed() -> Iterator[None]:
    """The French catalog with the probe in place of `PROBED`'s messages."""
    real: Callable[[str], _gettext.NullTranslations] = i18n._translations
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(i18n, "_translations",
                      lambda language: _Probed(real(language)) if language == "fr"
                      else real(language))
        _clear_caches()
        yield
    _clear_caches()


@pytest.fixture(scope="module")
def night(probed: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo's first night, French by default, in-process: the emails and the digest as
    delivered (`.eml`), and the report's notices (values the digest quotes as written)."""
    out = tmp_path_factory.mktemp("night")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PLATFORM_NAME", "Boréal Gestion immobilière")
        patch.setenv("SUPPORT_EMAIL", "Soutien Boréal <soutien@boreal-gestion.example>")
        patch.setenv("OPS_EMAIL", "operations@boreal-gestion.example")
        code = main(["run", "--as-of", "2026-08-01", "--default-locale", "fr",
                     "--state", str(out / "state.sqlite"), "--outbox", str(out / "outbox"),
                     "--report-json", str(out / "report.json"),
                     "--report-html", str(out / "report.html"),
                     "--docs-base-url", "https://aide.example"])
    assert code == 1  # one building's check fails on purpose
    messages = {path.stem: email.message_from_bytes(path.read_bytes(), policy=policy.default)
                for path in sorted((out / "outbox").glob("*.eml"))}
    report = (out / "report.json").read_text(encoding="utf-8")
    return {"messages": messages, "report": report}


def _french(messages: dict[str, Any]) -> dict[str, Any]:
    """The buildings' emails written in French only."""
    return {name: m for name, m in messages.items()
            if name.startswith("acct_") and m["Content-Language"] == "fr"}


def _parts(message: Any) -> tuple[str, str]:
    """The text part (with its line ends as Python writes them) and the HTML part's text."""
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    return text, visible(message.get_body(("html",)).get_content())


def _quoted_values(report: str) -> list[str]:
    """What the digest quotes as written: notices and errors (their text is the report's)."""
    data = json.loads(report)
    values = [n["message"] if isinstance(n, dict) else str(n)
              for a in data["accounts"] for n in a.get("notices", [])]
    values += [a["error"] for a in data["accounts"] if a.get("error")]
    return [v for v in values if v]


# --- emails ------------------------------------------------------------------------------

def test_the_probe_reads_set_in_both_parts_of_a_french_email(
    night: dict[str, Any],
) -> None:
    text, page = _parts(night["messages"]["acct_1TdpToursDuParc_2026-08-01"])
    assert f"[CRITIQUE] {PROBE_SET}\n" in text
    assert PROBE_SET in page


def test_a_french_email_names_the_help_page_in_stripe_s_words(night: dict[str, Any]) -> None:
    text, page = _parts(night["messages"]["acct_1TdpToursDuParc_2026-08-01"])
    assert HELP_PAGE in text
    assert HELP_PAGE in page


def test_no_french_email_breaks_the_rule(night: dict[str, Any]) -> None:
    french = _french(night["messages"])
    assert "acct_1TdpToursDuParc_2026-08-01" in french
    found = {name: breaches(part) for name, message in french.items()
             for part in _parts(message)}
    assert {name: b for name, b in found.items() if b} == {}


def test_french_subjects_keep_their_no_break_spaces(night: dict[str, Any]) -> None:
    """A subject is one line, but a phone's inbox still wraps it."""
    messages = night["messages"]
    assert str(messages["acct_1TdpToursDuParc_2026-08-01"]["Subject"]) == (
        f"Les Tours du Parc{N}: {PROBE_SET} (+2 autres)")
    assert str(messages["digest_2026-08-01"]["Subject"]).startswith(
        f"Bilan de nuit Balance Guard du samedi 1er{N}août 2026{N}: ")
    french = {**_french(messages), "digest": messages["digest_2026-08-01"]}
    subjects = {name: breaches(str(m["Subject"])) for name, m in french.items()}
    assert {name: b for name, b in subjects.items() if b} == {}


# --- the operations digest ---------------------------------------------------------------

def test_the_probe_reads_set_in_the_french_digest(night: dict[str, Any]) -> None:
    digest = night["messages"]["digest_2026-08-01"]
    text, page = _parts(digest)
    assert f"    {PROBE_SET}{N}: 450,00{N}$\n" in text
    assert f"{PROBE_SET}{N}: 450,00{N}$" in page


def test_the_french_digest_breaks_no_rule(night: dict[str, Any]) -> None:
    digest = night["messages"]["digest_2026-08-01"]
    assert digest["Content-Language"] == "fr"
    quoted = _quoted_values(night["report"])
    found = []
    for part in _parts(digest):
        words = part
        for value in quoted:
            words = words.replace(html.escape(value, quote=False), "").replace(value, "")
        found += breaches(words)
    assert found == []


# --- explain -----------------------------------------------------------------------------

def test_the_probe_reads_set_in_explain(probed: None) -> None:
    out = render_explain("NEGATIVE_BALANCE", "fr")
    assert out.startswith(f"NEGATIVE_BALANCE — {PROBE_SET}\n")
    assert f"Gravité{N}: Critique\n" in out
    assert HELP_PAGE in unwrapped(out)


@pytest.mark.parametrize("code", list(RuleCode))
def test_explain_breaks_no_rule(probed: None, code: RuleCode) -> None:
    assert breaches(render_explain(code.value, "fr")) == []


# --- reserve-simulate --------------------------------------------------------------------

@pytest.mark.parametrize("arguments", [
    ["--csv", str(EXAMPLES / "reserve_transactions.csv"), "--type", "fixed",
     "--percent", "25", "--release-date", "2026-08-30"],
    ["--csv", str(EXAMPLES / "reserve_transactions_rolling.csv"), "--type", "rolling",
     "--percent", "10", "--window-days", "7", "--schedule", "weekly",
     "--payout-days", "monday"],
    ["--csv", str(EXAMPLES / "reserve_transactions.csv"), "--type", "fixed",
     "--percent", "25", "--release-date", "2026-08-30", "--schedule", "monthly",
     "--payout-days", "1,15"],
])
def test_reserve_simulate_in_french_sets_the_probe_and_breaks_no_rule(
    probed: None, capsys: pytest.CaptureFixture[str], arguments: list[str],
) -> None:
    assert main(["reserve-simulate", *arguments, "--locale", "fr"]) == 0
    out = capsys.readouterr().out
    assert f"\n{PROBE_SET} (" in "\n" + out
    assert breaches(out) == []


# --- the help site -----------------------------------------------------------------------

PAGE = """\
Probe
=====

Probe sentence.

.. rule-catalog::
"""

PAGE_CATALOG = f"""\
msgid ""
msgstr ""
"Content-Type: text/plain; charset=utf-8\\n"
"Language: fr\\n"

msgid "Probe"
msgstr "Sonde"

msgid "Probe sentence."
msgstr "{PROBE}."
"""


@pytest.fixture(scope="module")
def help_page(probed: None, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A page of the help site, built in French in-process (so the probe reaches the rule
    catalog the extension renders) with the site's own configuration and extension."""
    from sphinx.cmd.build import build_main

    work = tmp_path_factory.mktemp("help")
    source = work / "source"
    catalogs = source / "locales" / "fr" / "LC_MESSAGES"
    catalogs.mkdir(parents=True)
    (source / "index.rst").write_text(PAGE, encoding="utf-8")
    (catalogs / "index.po").write_text(PAGE_CATALOG, encoding="utf-8")
    code = build_main(["-W", "--keep-going", "-q", "-b", "html", "-D", "language=fr",
                       "-c", str(DOCS), "-d", str(work / "doctrees"), str(source),
                       str(work / "html")])
    assert code == 0
    return (work / "html" / "index.html").read_text(encoding="utf-8")


def test_the_probe_reads_set_on_the_help_site(help_page: str) -> None:
    # The page's own text (its catalog), and the rule catalog's title (the product's).
    assert f"<p>{PROBE_SET}.</p>" in help_page
    assert f'<h2>{PROBE_SET}<a class="headerlink" href="#rule-negative-balance"' in help_page
    assert f"<strong>Code{N}: </strong>" in help_page
    assert HELP_PAGE in unwrapped(visible(help_page))


def test_the_help_site_breaks_no_rule(help_page: str) -> None:
    assert breaches(visible(help_page)) == []


def test_admonition_titles_take_no_colon_in_either_language() -> None:
    # Furo sets an admonition's title ("Note", "Remarque") on a bar of its own, with no
    # colon in either language (Alabaster wrote one from its stylesheet, which French had
    # to give its no-break space): no stylesheet of the help site adds one.
    import furo

    sheets = [DOCS / "_static" / "balance-guard.css",
              Path(furo.__file__).parent / "theme" / "furo" / "static" / "styles" / "furo.css"]
    for sheet in sheets:
        css = sheet.read_text(encoding="utf-8")
        assert not re.search(r"admonition-title:{1,2}after", css), sheet.name
