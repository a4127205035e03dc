"""The rule catalog: the one source of every word the product says about a rule.

Emails, `balance-guard explain` and the help site all render from here, in French and
English. Texts are plain strings with `{placeholders}` the renderers fill with values
already formatted for the reader's locale (see `PLACEHOLDERS`). A `summary` only names
keys its rule really emits (the finding's `amount` and its `details`, see `rules.py`).

Readers are building administrators, not accountants: every text says what happened in
everyday words, and each rule ends with one action they can take.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from balance_guard.domain.findings import CapacityShortCause, RuleCode, Severity

LANGUAGES = ("en", "fr")

# Placeholders a `summary` or cause text may use; money ones are formatted with Babel.
PLACEHOLDERS = {
    "amount": "money", "exposure": "money", "capacity": "money", "available": "money",
    "prefund": "money", "minimum": "money", "target": "money", "previous": "money",
    "release_date": "date", "first_release_date": "date", "refunds": "count",
    "minimum_balance_retains": "money",
}  # fmt: skip


class RuleText(BaseModel):
    """One rule in one language."""

    model_config = ConfigDict(frozen=True)

    title: str  # short, for a subject line or heading
    meaning: str  # what the rule means, in general terms
    why: str  # why the reader got it: the condition, in plain words
    action: str  # the one thing to do
    summary: str  # one sentence about this finding, with placeholders


class CatalogEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: RuleCode
    texts: dict[str, RuleText]  # language -> text

    @property
    def severity(self) -> Severity:
        return self.code.severity

    @property
    def anchor(self) -> str:
        return self.code.anchor

    def text(self, language: str) -> RuleText:
        return self.texts[language]


def _entry(code: RuleCode, en: RuleText, fr: RuleText) -> tuple[RuleCode, CatalogEntry]:
    return code, CatalogEntry(code=code, texts={"en": en, "fr": fr})


CATALOG: dict[RuleCode, CatalogEntry] = dict([
    _entry(
        RuleCode.NEGATIVE_BALANCE,
        RuleText(
            title="Your Stripe balance is below zero",
            meaning=(
                "Refunds, disputes or fees took more out of the building's Stripe payments "
                "balance than residents' payments brought in. While the balance is below zero, "
                "the building owes that money to Stripe and there is nothing left in it to "
                "pay a resident back."
            ),
            why=(
                "On the night of the check, the available payments balance in this currency "
                "was below zero."
            ),
            action=(
                "Add at least the missing amount to your prefunding balance by bank wire or "
                "ACH, as shown on the help page “Adding funds for refunds and disputes”."
            ),
            summary="Your available balance is {amount} below zero.",
        ),
        RuleText(
            title="Votre solde Stripe est négatif",
            meaning=(
                "Des remboursements, des litiges ou des frais ont retiré du solde des "
                "paiements Stripe de l'immeuble plus d'argent que les paiements des résidents "
                "n'en ont apporté. Tant que le solde reste sous zéro, l'immeuble doit cette "
                "somme à Stripe et il n'y a plus rien pour rembourser un résident."
            ),
            why=(
                "La nuit de la vérification, le solde des paiements disponible dans cette "
                "devise était inférieur à zéro."
            ),
            action=(
                "Versez au moins la somme manquante dans votre solde de préfinancement par "
                "virement bancaire ou paiement ACH, en suivant la page d'aide « Ajouter des "
                "fonds pour les remboursements et les litiges »."
            ),
            summary="Votre solde disponible est de {amount} sous zéro.",
        ),
    ),
    _entry(
        RuleCode.REFUND_BLOCKED,
        RuleText(
            title="A resident's refund is on hold",
            meaning=(
                "Stripe accepted the refund but cannot pay it yet: the building's payments "
                "balance and prefunding balance together do not hold enough money. The "
                "resident has not received anything so far."
            ),
            why=(
                "At least one refund in this currency was waiting at Stripe with the reason "
                "“insufficient funds” on the night of the check."
            ),
            action=(
                "Add the blocked amount to your prefunding balance by bank wire or ACH; Stripe "
                "completes the waiting refunds once the money arrives."
            ),
            summary="Refunds totalling {amount} are waiting for funds (number of refunds: "
                    "{refunds}).",
        ),
        RuleText(
            title="Le remboursement d'un résident est en attente",
            meaning=(
                "Stripe a accepté le remboursement, mais ne peut pas encore le verser : le "
                "solde des paiements et le solde de préfinancement de l'immeuble, mis "
                "ensemble, ne contiennent pas assez d'argent. Le résident n'a encore rien reçu."
            ),
            why=(
                "La nuit de la vérification, au moins un remboursement dans cette devise était "
                "en attente chez Stripe pour cause de « fonds insuffisants »."
            ),
            action=(
                "Versez le montant bloqué dans votre solde de préfinancement par virement "
                "bancaire ou paiement ACH; Stripe termine les remboursements en attente dès "
                "que l'argent est reçu."
            ),
            summary="Des remboursements totalisant {amount} attendent des fonds (nombre de "
                    "remboursements : {refunds}).",
        ),
    ),
    _entry(
        RuleCode.REFUND_CAPACITY_SHORT,
        RuleText(
            title="Not enough money set aside for your largest possible refund",
            meaning=(
                "Balance Guard compares two figures. The refund exposure is the most a "
                "resident could still get back on a single recent payment. The guaranteed "
                "capacity is the money sure to remain in Stripe after the next automatic "
                "payout: the part of the balance a minimum balance keeps back, plus the "
                "prefunding balance. When the capacity is the smaller of the two, a full "
                "refund of that payment could fail in the portal."
            ),
            why=(
                "Your refund exposure in this currency is larger than your guaranteed "
                "capacity. The cause shown with this message says which protection is "
                "missing, too small or could not be confirmed."
            ),
            action=(
                "Ask the platform's support team to set or raise your minimum balance to at "
                "least the refund exposure shown; for a single unusually large payment, add "
                "the shortfall to your prefunding balance instead."
            ),
            summary="A refund of up to {exposure} is possible, but only {capacity} is sure to "
                    "be there: {amount} is missing.",
        ),
        RuleText(
            title="Les fonds mis de côté ne suffisent pas pour votre plus gros remboursement",
            meaning=(
                "Balance Guard compare deux montants. L'exposition aux remboursements est la "
                "plus grosse somme qu'un résident pourrait encore se faire rembourser sur un "
                "seul paiement récent. La capacité garantie est l'argent qui restera "
                "certainement chez Stripe après le prochain versement automatique : la part "
                "du solde retenue par un solde minimum, plus le solde de préfinancement. "
                "Quand la capacité est la plus petite des deux, le remboursement complet de "
                "ce paiement pourrait échouer dans le portail."
            ),
            why=(
                "Dans cette devise, votre exposition aux remboursements dépasse votre "
                "capacité garantie. La cause indiquée avec ce message précise quelle "
                "protection manque, est trop faible ou n'a pas pu être confirmée."
            ),
            action=(
                "Demandez à l'équipe de soutien de la plateforme de fixer ou d'augmenter "
                "votre solde minimum pour qu'il atteigne au moins l'exposition indiquée; pour "
                "un seul paiement exceptionnellement élevé, versez plutôt l'écart dans votre "
                "solde de préfinancement."
            ),
            summary="Un remboursement pouvant atteindre {exposure} est possible, mais seul un "
                    "montant de {capacity} est assuré : il manque {amount}.",
        ),
    ),
    _entry(
        RuleCode.MIN_BALANCE_NOT_SET,
        RuleText(
            title="No minimum balance is set",
            meaning=(
                "With a minimum balance, part of the money stays in Stripe after every "
                "automatic payout; only the excess goes to the bank. This cushion fills up "
                "again by itself as residents pay, which is why it is the protection "
                "recommended for every account."
            ),
            why=(
                "Payouts on this account are automatic and no minimum balance is set in this "
                "currency, so a payout can leave nothing behind for refunds."
            ),
            action=(
                "Ask the platform's support team to set a minimum balance of at least the "
                "suggested amount; they need your consent to do it."
            ),
            summary="We suggest a minimum balance of {amount}, enough to cover your largest "
                    "refundable payment ({exposure}).",
        ),
        RuleText(
            title="Aucun solde minimum n'est défini",
            meaning=(
                "Avec un solde minimum, une partie de l'argent reste chez Stripe après chaque "
                "versement automatique; seul l'excédent part à la banque. Ce coussin se "
                "remplit de nouveau au fil des paiements des résidents, ce qui en fait la "
                "protection recommandée pour tous les comptes."
            ),
            why=(
                "Les versements de ce compte sont automatiques et aucun solde minimum n'est "
                "défini dans cette devise : un versement peut donc ne rien laisser pour les "
                "remboursements."
            ),
            action=(
                "Demandez à l'équipe de soutien de la plateforme de fixer un solde minimum au "
                "moins égal au montant suggéré; elle a besoin de votre accord pour le faire."
            ),
            summary="Nous suggérons un solde minimum de {amount}, ce qui couvre votre plus "
                    "gros paiement remboursable ({exposure}).",
        ),
    ),
    _entry(
        RuleCode.MIN_BALANCE_BELOW_EXPOSURE,
        RuleText(
            title="Your minimum balance is too low for your largest refund",
            meaning=(
                "After a payout, refunds are paid from what the minimum balance keeps back "
                "plus the prefunding balance. Together, these two amounts are smaller than "
                "the most a resident could still get back on one recent payment."
            ),
            why=(
                "In this currency, your minimum balance plus your prefunding balance is less "
                "than your refund exposure."
            ),
            action=(
                "Ask the platform's support team to raise your minimum balance by the amount "
                "shown."
            ),
            summary="Your minimum balance ({minimum}) plus your prefunding ({prefund}) falls "
                    "{amount} short of your largest refundable payment ({exposure}).",
        ),
        RuleText(
            title="Votre solde minimum est trop bas pour votre plus gros remboursement",
            meaning=(
                "Après un versement, les remboursements sont payés à même ce que le solde "
                "minimum retient et le solde de préfinancement. Ensemble, ces deux montants "
                "sont inférieurs à la plus grosse somme qu'un résident pourrait encore se "
                "faire rembourser sur un paiement récent."
            ),
            why=(
                "Dans cette devise, votre solde minimum additionné à votre solde de "
                "préfinancement est inférieur à votre exposition aux remboursements."
            ),
            action=(
                "Demandez à l'équipe de soutien de la plateforme d'augmenter votre solde "
                "minimum du montant indiqué."
            ),
            summary="Votre solde minimum ({minimum}) et votre préfinancement ({prefund}) "
                    "laissent un manque de {amount} par rapport à votre plus gros paiement "
                    "remboursable ({exposure}).",
        ),
    ),
    _entry(
        RuleCode.PREFUND_DEPLETED,
        RuleText(
            title="Your prefunding balance is empty",
            meaning=(
                "The prefunding balance is money the building added itself for future "
                "refunds and disputes. Stripe draws on it when the payments balance cannot "
                "cover one. It never fills up again by itself."
            ),
            why=(
                "Your prefunding balance in this currency is at zero, and it either held "
                "money at the previous check or a target amount is set for it."
            ),
            action=(
                "Top up your prefunding balance by bank wire or ACH, as shown on the help "
                "page “Adding funds for refunds and disputes”."
            ),
            summary="Your prefunding balance is empty; adding {amount} would restore it.",
        ),
        RuleText(
            title="Votre solde de préfinancement est vide",
            meaning=(
                "Le solde de préfinancement est l'argent que l'immeuble a lui-même déposé "
                "pour les remboursements et les litiges à venir. Stripe y puise quand le "
                "solde des paiements ne suffit pas. Il ne se renfloue jamais tout seul."
            ),
            why=(
                "Votre solde de préfinancement dans cette devise est à zéro, alors qu'il "
                "contenait de l'argent lors de la vérification précédente ou qu'un montant "
                "cible est fixé pour lui."
            ),
            action=(
                "Renflouez votre solde de préfinancement par virement bancaire ou paiement "
                "ACH, en suivant la page d'aide « Ajouter des fonds pour les remboursements "
                "et les litiges »."
            ),
            summary="Votre solde de préfinancement est vide; un dépôt de {amount} le "
                    "rétablirait.",
        ),
    ),
    _entry(
        RuleCode.PREFUND_BELOW_TARGET,
        RuleText(
            title="Your prefunding balance is below its target",
            meaning=(
                "Your platform set a target amount for this building's prefunding balance. "
                "Part of it has been used, and the prefunding balance does not fill up again "
                "by itself."
            ),
            why=(
                "Your prefunding balance in this currency is above zero but lower than its "
                "target."
            ),
            action="Add the missing amount to your prefunding balance by bank wire or ACH.",
            summary="Your prefunding balance is {prefund}, which is {amount} below its target "
                    "of {target}.",
        ),
        RuleText(
            title="Votre solde de préfinancement est sous sa cible",
            meaning=(
                "Votre plateforme a fixé un montant cible pour le solde de préfinancement de "
                "cet immeuble. Une partie a été utilisée, et ce solde ne se renfloue pas "
                "tout seul."
            ),
            why=(
                "Votre solde de préfinancement dans cette devise est positif, mais inférieur "
                "à sa cible."
            ),
            action=(
                "Versez la somme manquante dans votre solde de préfinancement par virement "
                "bancaire ou paiement ACH."
            ),
            summary="Votre solde de préfinancement est de {prefund}, soit {amount} de moins "
                    "que sa cible de {target}.",
        ),
    ),
    _entry(
        RuleCode.PREFUND_USED,
        RuleText(
            title="Your prefunding balance was used",
            meaning=(
                "Stripe took money from the prefunding balance, usually to pay a refund or a "
                "dispute that the payments balance could not cover. That money does not "
                "come back by itself."
            ),
            why="Your prefunding balance in this currency is lower than at the previous check.",
            action=(
                "Check that the refund or dispute behind it was expected, then top up the "
                "prefunding balance if you want to keep the same protection."
            ),
            summary="Your prefunding balance went from {previous} to {prefund}: {amount} "
                    "was used.",
        ),
        RuleText(
            title="Votre solde de préfinancement a servi",
            meaning=(
                "Stripe a prélevé de l'argent dans le solde de préfinancement, le plus "
                "souvent pour payer un remboursement ou un litige que le solde des paiements "
                "ne pouvait pas couvrir. Cet argent ne revient pas tout seul."
            ),
            why=(
                "Votre solde de préfinancement dans cette devise est plus bas qu'à la "
                "vérification précédente."
            ),
            action=(
                "Confirmez que le remboursement ou le litige en cause était prévu, puis "
                "renflouez le solde de préfinancement si vous voulez garder la même "
                "protection."
            ),
            summary="Votre solde de préfinancement est passé de {previous} à {prefund} : "
                    "un montant de {amount} a été utilisé.",
        ),
    ),
    _entry(
        RuleCode.PAYOUTS_DISABLED,
        RuleText(
            title="Payouts to your bank are turned off",
            meaning=(
                "Stripe has stopped sending the building's money to its bank account. "
                "Residents can still pay, but nothing goes out until payouts are turned back "
                "on, which usually means Stripe is waiting for information or the bank "
                "account needs attention."
            ),
            why="Stripe reports payouts as disabled for this account.",
            action=(
                "Sign in to your Stripe Express dashboard and complete whatever Stripe asks "
                "for there."
            ),
            summary="Payouts from this account to your bank are turned off.",
        ),
        RuleText(
            title="Les versements à votre banque sont suspendus",
            meaning=(
                "Stripe a cessé d'envoyer l'argent de l'immeuble à son compte bancaire. Les "
                "résidents peuvent toujours payer, mais rien ne sort tant que les versements "
                "ne sont pas réactivés; en général, Stripe attend des renseignements ou le "
                "compte bancaire doit être corrigé."
            ),
            why="Stripe indique que les versements sont désactivés pour ce compte.",
            action=(
                "Connectez-vous à votre tableau de bord Stripe Express et fournissez ce que "
                "Stripe y demande."
            ),
            summary="Les versements de ce compte vers votre banque sont suspendus.",
        ),
    ),
    _entry(
        RuleCode.RESERVE_HELD,
        RuleText(
            title="Stripe is holding funds in reserve",
            meaning=(
                "A reserve is money Stripe holds back from payments for a set period so that "
                "refunds and disputes can always be paid. On its release date, the money "
                "returns to the available balance and leaves with the next payout."
            ),
            why="Stripe currently holds reserved funds on this account in this currency.",
            action=(
                "Nothing to do; read the help page on reserves to see how and when the "
                "money comes back."
            ),
            summary="{amount} is held in reserve.",
        ),
        RuleText(
            title="Stripe retient des fonds en réserve",
            meaning=(
                "Une réserve est de l'argent que Stripe met de côté sur les paiements "
                "pendant une période définie, afin que les remboursements et les litiges "
                "puissent toujours être payés. À la date de déblocage, l'argent revient dans "
                "le solde disponible et part avec le versement suivant."
            ),
            why="Stripe retient actuellement des fonds en réserve sur ce compte dans cette devise.",
            action=(
                "Rien à faire; consultez la page d'aide sur les réserves pour savoir comment "
                "et quand l'argent revient."
            ),
            summary="Un montant de {amount} est retenu en réserve.",
        ),
    ),
    _entry(
        RuleCode.RESERVE_RELEASE_UPCOMING,
        RuleText(
            title="Reserved funds will be released soon",
            meaning=(
                "Money Stripe held in reserve becomes available on its release date and is "
                "sent to the bank with the first scheduled payout after that date."
            ),
            why=(
                "Reserved funds on this account are scheduled for release within the next "
                "few days (two weeks unless your platform chose otherwise)."
            ),
            action=(
                "Nothing to do; expect the money in your bank account after the first "
                "payout that follows the release date."
            ),
            summary="{amount} will be released from reserve, starting on {first_release_date}.",
        ),
        RuleText(
            title="Des fonds en réserve seront bientôt débloqués",
            meaning=(
                "L'argent que Stripe retenait en réserve devient disponible à sa date de "
                "déblocage et part vers la banque avec le premier versement prévu après "
                "cette date."
            ),
            why=(
                "Des fonds en réserve de ce compte doivent être débloqués dans les prochains "
                "jours (deux semaines, sauf si votre plateforme a choisi autrement)."
            ),
            action=(
                "Rien à faire; l'argent arrivera dans votre compte bancaire après le premier "
                "versement qui suit la date de déblocage."
            ),
            summary="Un montant de {amount} sera débloqué de la réserve à compter du "
                    "{first_release_date}.",
        ),
    ),
    _entry(
        RuleCode.CHECK_FAILED,
        RuleText(
            title="The nightly check could not be completed",
            meaning=(
                "Balance Guard could not read this account's figures from Stripe, even after "
                "several tries, so it cannot tell whether refunds are protected."
            ),
            why=(
                "Stripe refused or did not answer the requests made for this account during "
                "the nightly run."
            ),
            action=(
                "Nothing to do on your side: the platform's operations team has been told, "
                "and the next run tries again."
            ),
            summary="This account could not be checked during the nightly run.",
        ),
        RuleText(
            title="La vérification de nuit n'a pas pu être effectuée",
            meaning=(
                "Balance Guard n'a pas réussi à lire les données de ce compte chez Stripe, "
                "même après plusieurs tentatives; il ne peut donc pas dire si les "
                "remboursements sont protégés."
            ),
            why=(
                "Stripe a refusé les demandes faites pour ce compte pendant la vérification "
                "de nuit, ou n'y a pas répondu."
            ),
            action=(
                "Rien à faire de votre côté : l'équipe des opérations de la plateforme est "
                "avisée, et la prochaine vérification fera un nouvel essai."
            ),
            summary="Ce compte n'a pas pu être vérifié pendant la vérification de nuit.",
        ),
    ),
])

# Why guaranteed capacity falls short (REFUND_CAPACITY_SHORT `details.cause`).
CAUSES: dict[CapacityShortCause, dict[str, str]] = {
    CapacityShortCause.MANUAL_PAYOUTS: {
        "en": (
            "Payouts on this account are manual or turned off, so a minimum balance does not "
            "apply: only today's balance and the prefunding balance count, and a manual payout "
            "could take the balance away at any time."
        ),
        "fr": (
            "Les versements de ce compte sont manuels ou suspendus : aucun solde minimum ne "
            "s'applique, seuls le solde du jour et le solde de préfinancement comptent, et un "
            "versement manuel pourrait vider le solde à tout moment."
        ),
    },
    # Payouts are automatic but Stripe would not show the balance settings (rules.py):
    # capacity counts only the prefunding, and the reader must get the minimum confirmed.
    CapacityShortCause.MINIMUM_BALANCE_UNKNOWN: {
        "en": (
            "We could not read the building's minimum balance from Stripe, so we cannot tell "
            "whether one is set, and only the prefunding balance is counted as sure to be there. "
            "Ask the platform's support team to confirm that a minimum balance is set to at "
            "least the refund exposure, or add the missing amount to your prefunding balance."
        ),
        "fr": (
            "Nous n'avons pas pu lire le solde minimum de l'immeuble chez Stripe : nous ne "
            "savons donc pas s'il y en a un, et seul le solde de préfinancement est compté "
            "comme assuré. Demandez à l'équipe de soutien de la plateforme de confirmer qu'un "
            "solde minimum est fixé et qu'il atteint au moins l'exposition aux remboursements, "
            "ou versez la somme manquante dans votre solde de préfinancement."
        ),
    },
    CapacityShortCause.NO_MINIMUM_BALANCE: {
        "en": (
            "No minimum balance is set, so each automatic payout can empty the balance and "
            "leave only the prefunding balance for refunds."
        ),
        "fr": (
            "Aucun solde minimum n'est défini : chaque versement automatique peut vider le "
            "solde et ne laisser que le solde de préfinancement pour les remboursements."
        ),
    },
    CapacityShortCause.MINIMUM_BELOW_EXPOSURE: {
        "en": (
            "A minimum balance is set, but together with the prefunding balance it is lower "
            "than the largest refund a resident could ask for."
        ),
        "fr": (
            "Un solde minimum est défini, mais même avec le solde de préfinancement, il reste "
            "inférieur au plus gros remboursement qu'un résident pourrait demander."
        ),
    },
    CapacityShortCause.BALANCE_BELOW_MINIMUM: {
        "en": (
            "The minimum balance would be enough, but the balance has not reached it yet; it "
            "fills up as residents pay, and refunds are exposed until then."
        ),
        "fr": (
            "Le solde minimum suffirait, mais le solde ne l'a pas encore atteint; il se "
            "remplit au fil des paiements des résidents, et les remboursements sont exposés "
            "d'ici là."
        ),
    },
}


# Extra sentences a renderer adds when a finding's details call for them.
NOTES: dict[str, dict[str, str]] = {
    # RESERVE_RELEASE_UPCOMING while the balance is below its minimum (SPEC §8).
    "minimum_balance_retains": {
        "en": (
            "Your minimum balance is not full yet, so Stripe keeps the first "
            "{minimum_balance_retains} of the released money to refill it before any payout."
        ),
        "fr": (
            "Votre solde minimum n'est pas encore atteint : Stripe garde d'abord "
            "{minimum_balance_retains} de l'argent débloqué pour le compléter, avant tout "
            "versement."
        ),
    },
}


class ComparisonRow(BaseModel):
    """One line of the minimum balance vs prefunding table, in every language."""

    model_config = ConfigDict(frozen=True)

    key: str
    # language -> (aspect, minimum balance, prefunding)
    cells: dict[str, tuple[str, str, str]]

    def text(self, language: str) -> tuple[str, str, str]:
        return self.cells[language]


MIN_BALANCE_VS_PREFUNDING: tuple[ComparisonRow, ...] = (
    ComparisonRow(key="funding", cells={
        "en": ("Where the money comes from",
               "Residents' payments: Stripe keeps the amount back before each automatic payout",
               "You send it yourself, by bank wire (Canada or US) or ACH (US only)"),
        "fr": ("D'où vient l'argent",
               "Des paiements des résidents : Stripe retient le montant avant chaque "
               "versement automatique",
               "Vous l'envoyez vous-même, par virement bancaire (Canada ou États-Unis) ou par "
               "paiement ACH (États-Unis seulement)"),
    }),
    ComparisonRow(key="refills", cells={
        "en": ("Fills up again by itself",
               "Yes, from incoming payments",
               "No: once used, you must add money again"),
        "fr": ("Se renfloue tout seul",
               "Oui, grâce aux paiements qui entrent",
               "Non : une fois utilisé, vous devez y remettre de l'argent"),
    }),
    ComparisonRow(key="automatic_payouts", cells={
        "en": ("Part of automatic payouts",
               "No: the minimum stays in Stripe and only what is above it is paid out",
               "No, never"),
        "fr": ("Inclus dans les versements automatiques",
               "Non : le minimum reste chez Stripe et seul l'excédent est versé",
               "Non, jamais"),
    }),
    ComparisonRow(key="manual_payout", cells={
        "en": ("Can be paid out to the bank on request",
               "No, it stays in place while the minimum is set; the platform's support can "
               "lower or remove it",
               "Yes, at any time, with a manual payout from the Stripe dashboard"),
        "fr": ("Peut être versé à la banque sur demande",
               "Non, il reste en place tant que le minimum est défini; le soutien de la "
               "plateforme peut le baisser ou le retirer",
               "Oui, en tout temps, par un versement manuel depuis le tableau de bord Stripe"),
    }),
    ComparisonRow(key="who", cells={
        "en": ("Who sets it up",
               "The platform's support team, with your consent",
               "You, from your Stripe Express dashboard"),
        "fr": ("Qui le met en place",
               "L'équipe de soutien de la plateforme, avec votre accord",
               "Vous, depuis votre tableau de bord Stripe Express"),
    }),
    ComparisonRow(key="upkeep", cells={
        "en": ("Upkeep",
               "Almost none once set",
               "Needs watching: easy to forget, and a refund fails if it runs dry"),
        "fr": ("Suivi nécessaire",
               "Presque aucun une fois en place",
               "À surveiller : facile à oublier, et un remboursement échoue s'il est à sec"),
    }),
    ComparisonRow(key="when", cells={
        "en": ("When to use it",
               "Every account: the recommended protection",
               "Special cases, such as a refund larger than your minimum balance"),
        "fr": ("Quand l'utiliser",
               "Pour tous les comptes : c'est la protection recommandée",
               "Pour les cas particuliers, comme un remboursement plus élevé que votre solde "
               "minimum"),
    }),
)

# Words every renderer (emails, CLI, report, help site) needs around the catalog texts.
LABELS: dict[str, dict[str, str]] = {
    "en": {
        "learn_more": "Learn more",
        "help_page": "Help page",
        "amount": "Amount",
        "currency": "Currency",
        "code": "Code",
        "severity": "Severity",
        "status": "Status",
        "meaning": "What it means",
        "why": "Why you got this",
        "action": "What to do",
        "causes": "Possible causes",
        "cause": "Cause",
        "severity_info": "Information",
        "severity_warning": "Warning",
        "severity_critical": "Critical",
        "severity_error": "Error",
        "status_ok": "OK",
        "status_info": "Information",
        "status_warning": "Warning",
        "status_critical": "Critical",
        "status_error": "Not checked",
        "aspect": "Aspect",
        "minimum_balance": "Minimum balance",
        "prefunding": "Refund and dispute prefunding",
        "date": "Date",
        "payment": "Payment",
        "fee": "Stripe fee",
        "net": "Net amount",
        "reserved": "Reserved",
        "event": "What happens",
        "held": "Into the reserve",
        "released": "Released",
        "in_reserve": "Still in reserve",
        "at_bank": "Expected at the bank",
        "total": "Total",
        "event_hold_transaction": "Part of a payment goes into the reserve",
        "event_hold_balance_transfer": "Part of the existing balance goes into the reserve",
        "event_release": "Released to the available balance",
        "colon": ": ",
        "language_name": "English",
    },
    "fr": {
        "learn_more": "En savoir plus",
        "help_page": "Page d'aide",
        "amount": "Montant",
        "currency": "Devise",
        "code": "Code",
        "severity": "Gravité",
        "status": "État",
        "meaning": "Ce que cela signifie",
        "why": "Pourquoi vous recevez ceci",
        "action": "Que faire",
        "causes": "Causes possibles",
        "cause": "Cause",
        "severity_info": "Information",
        "severity_warning": "Avertissement",
        "severity_critical": "Critique",
        "severity_error": "Erreur",
        "status_ok": "Aucun problème",
        "status_info": "Information",
        "status_warning": "Avertissement",
        "status_critical": "Critique",
        "status_error": "Non vérifié",
        "aspect": "Caractéristique",
        "minimum_balance": "Solde minimum",
        "prefunding": "Préfinancement des remboursements et des litiges",
        "date": "Date",
        "payment": "Paiement",
        "fee": "Frais Stripe",
        "net": "Montant net",
        "reserved": "Mis en réserve",
        "event": "Mouvement",
        "held": "Entrée en réserve",
        "released": "Débloqué",
        "in_reserve": "Reste en réserve",
        "at_bank": "Arrivée prévue à la banque",
        "total": "Total",
        "event_hold_transaction": "Une part d'un paiement est mise en réserve",
        "event_hold_balance_transfer": "Une part du solde existant est mise en réserve",
        "event_release": "Déblocage vers le solde disponible",
        "colon": " : ",
        "language_name": "Français",
    },
}


def entry(code: RuleCode) -> CatalogEntry:
    """The catalog entry of a rule; every RuleCode has one."""
    return CATALOG[code]


def severity_label(severity: Severity, language: str) -> str:
    return LABELS[language][f"severity_{severity.value}"]
