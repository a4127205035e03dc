"""The rule catalog: the one source of every word the product says about a rule.

Emails, `balance-guard explain` and the help site all render from here, in French and
English. Texts are plain strings with `{placeholders}` the renderers fill with values
already formatted for the reader's locale (see `PLACEHOLDERS`). A `summary` only names
keys its rule really emits (the finding's `amount` and its `details`, see `rules.py`);
an email's `finding_action` may also name the values every email can compute
(`COMPUTED_PLACEHOLDERS`). `title`, `meaning`, `why` and `action` have no placeholders:
`explain` and the help site print them as they are.

Readers are building administrators, not accountants: every text says what happened in
everyday words, and each rule ends with one action they can take. French texts use the
typographic apostrophe (’).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from balance_guard.domain.findings import CapacityShortCause, RuleCode, Severity

LANGUAGES = ("en", "fr")

# Placeholders a `summary` or cause text may use; money ones are formatted with Babel.
PLACEHOLDERS = {
    "amount": "money", "exposure": "money", "capacity": "money", "available": "money",
    "prefund": "money", "minimum": "money", "target": "money", "previous": "money",
    "release_date": "date", "first_release_date": "date", "refunds": "count",
    "minimum_balance_retains": "money",
    "suggested_minimum": "money", "funding_method": "text",
}  # fmt: skip
# Placeholders an email fills for any finding, beyond what its rule emits: the minimum
# balance to ask for (the refund exposure rounded up as MIN_BALANCE_NOT_SET suggests it),
# and how the reader can add funds in their country (`FUNDING_METHODS`).
COMPUTED_PLACEHOLDERS = frozenset({"suggested_minimum", "funding_method"})


class RuleText(BaseModel):
    """One rule in one language."""

    model_config = ConfigDict(frozen=True)

    title: str  # short, for a subject line or heading
    meaning: str  # what the rule means, in general terms
    why: str  # why the reader got it: the condition, in plain words
    action: str  # the one thing to do, in general terms (help site, `explain`)
    summary: str  # one sentence about this finding, with placeholders
    # The same action for one finding, naming its figures (emails); empty when `action`
    # needs no figure. A renderer missing one of its values falls back to `action`.
    finding_action: str = ""


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
                "Add at least the amount below zero to your prefunding balance by bank wire "
                "(or ACH in the United States), as shown on the help page “Adding funds for "
                "refunds and disputes”."
            ),
            summary="Your available balance is {amount} below zero.",
            finding_action=(
                "Add at least {amount} to your prefunding balance {funding_method}, as shown "
                "on the help page “Adding funds for refunds and disputes”."
            ),
        ),
        RuleText(
            title="Votre solde Stripe est négatif",
            meaning=(
                "Des remboursements, des litiges ou des frais ont retiré du solde des "
                "paiements Stripe de l’immeuble plus d’argent que les paiements des résidents "
                "n’en ont apporté. Tant que le solde reste sous zéro, l’immeuble doit cette "
                "somme à Stripe et il n’y a plus rien pour rembourser un résident."
            ),
            why=(
                "La nuit de la vérification, le solde des paiements disponible dans cette "
                "devise était inférieur à zéro."
            ),
            action=(
                "Versez au moins la somme sous zéro dans votre solde de préfinancement par "
                "virement bancaire (ou paiement ACH aux États-Unis), en suivant la page d’aide "
                "« Ajouter des fonds pour les remboursements et les litiges »."
            ),
            summary="Votre solde disponible est de {amount} sous zéro.",
            finding_action=(
                "Versez au moins {amount} dans votre solde de préfinancement "
                "{funding_method}, en suivant la page d’aide « Ajouter des fonds pour les "
                "remboursements et les litiges »."
            ),
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
                "Add the blocked amount to your prefunding balance by bank wire (or ACH in "
                "the United States); Stripe completes the waiting refunds once the money "
                "arrives."
            ),
            summary="Refunds totalling {amount} are waiting for funds (number of refunds: "
                    "{refunds}).",
            finding_action=(
                "Add {amount} to your prefunding balance {funding_method}; Stripe completes "
                "the waiting refunds once the money arrives."
            ),
        ),
        RuleText(
            title="Le remboursement d’un résident est en attente",
            meaning=(
                "Stripe a accepté le remboursement, mais ne peut pas encore le verser : le "
                "solde des paiements et le solde de préfinancement de l’immeuble, mis "
                "ensemble, ne contiennent pas assez d’argent. Le résident n’a encore rien reçu."
            ),
            why=(
                "La nuit de la vérification, au moins un remboursement dans cette devise était "
                "en attente chez Stripe pour cause de « fonds insuffisants »."
            ),
            action=(
                "Versez le montant bloqué dans votre solde de préfinancement par virement "
                "bancaire (ou paiement ACH aux États-Unis); Stripe termine les remboursements "
                "en attente dès que l’argent est reçu."
            ),
            summary="Des remboursements totalisant {amount} attendent des fonds (nombre de "
                    "remboursements : {refunds}).",
            finding_action=(
                "Versez {amount} dans votre solde de préfinancement {funding_method}; Stripe "
                "termine les remboursements en attente dès que l’argent est reçu."
            ),
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
                "It depends on the cause shown with this message: usually, have the "
                "platform's support team set, raise or confirm your minimum balance (it only "
                "works with automatic payouts), or wait for the balance to reach it. Adding "
                "the missing amount to your prefunding balance always closes the gap right "
                "away, whatever the cause."
            ),
            summary="A refund of up to {exposure} is possible, but only {capacity} is sure to "
                    "be there: {amount} is missing.",
            # Emails show the action of the finding's cause (`CAUSE_ACTIONS`); this one is
            # for a finding whose cause is not known.
            finding_action=(
                "Add {amount} to your prefunding balance {funding_method}: it closes the gap "
                "right away."
            ),
        ),
        RuleText(
            title="Les fonds mis de côté ne suffisent pas pour votre plus gros remboursement",
            meaning=(
                "Balance Guard compare deux montants. L’exposition aux remboursements est la "
                "plus grosse somme qu’un résident pourrait encore se faire rembourser sur un "
                "seul paiement récent. La capacité garantie est l’argent qui restera "
                "certainement chez Stripe après le prochain versement automatique : la part "
                "du solde retenue par un solde minimum, plus le solde de préfinancement. "
                "Quand la capacité est la plus petite des deux, le remboursement complet de "
                "ce paiement pourrait échouer dans le portail."
            ),
            why=(
                "Dans cette devise, votre exposition aux remboursements dépasse votre "
                "capacité garantie. La cause indiquée avec ce message précise quelle "
                "protection manque, est trop faible ou n’a pas pu être confirmée."
            ),
            action=(
                "Cela dépend de la cause indiquée avec ce message : en général, faire fixer, "
                "augmenter ou confirmer votre solde minimum par l’équipe de soutien de la "
                "plateforme (il ne fonctionne qu’avec les versements automatiques), ou "
                "attendre que le solde l’atteigne. Verser la somme manquante dans votre solde "
                "de préfinancement comble toujours l’écart sur-le-champ, quelle que soit la "
                "cause."
            ),
            summary="Un remboursement pouvant atteindre {exposure} est possible, mais seul un "
                    "montant de {capacity} est assuré : il manque {amount}.",
            finding_action=(
                "Versez {amount} dans votre solde de préfinancement {funding_method} : l’écart "
                "est comblé sur-le-champ."
            ),
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
            finding_action=(
                "Ask the platform's support team to set a minimum balance of at least "
                "{amount}; they need your consent to do it."
            ),
        ),
        RuleText(
            title="Aucun solde minimum n’est défini",
            meaning=(
                "Avec un solde minimum, une partie de l’argent reste chez Stripe après chaque "
                "versement automatique; seul l’excédent part à la banque. Ce coussin se "
                "remplit de nouveau au fil des paiements des résidents, ce qui en fait la "
                "protection recommandée pour tous les comptes."
            ),
            why=(
                "Les versements de ce compte sont automatiques et aucun solde minimum n’est "
                "défini dans cette devise : un versement peut donc ne rien laisser pour les "
                "remboursements."
            ),
            action=(
                "Demandez à l’équipe de soutien de la plateforme de fixer un solde minimum au "
                "moins égal au montant suggéré; elle a besoin de votre accord pour le faire."
            ),
            summary="Nous suggérons un solde minimum de {amount}, ce qui couvre votre plus "
                    "gros paiement remboursable ({exposure}).",
            finding_action=(
                "Demandez à l’équipe de soutien de la plateforme de fixer un solde minimum "
                "d’au moins {amount}; elle a besoin de votre accord pour le faire."
            ),
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
                "Ask the platform's support team to raise your minimum balance to at least "
                "your largest refundable payment, or add the amount shown to your prefunding "
                "balance."
            ),
            summary="Your minimum balance ({minimum}) plus your prefunding ({prefund}) falls "
                    "{amount} short of your largest refundable payment ({exposure}).",
            finding_action=(
                "Ask the platform's support team to raise your minimum balance from {minimum} "
                "to at least {suggested_minimum}, or add {amount} to your prefunding balance "
                "{funding_method}."
            ),
        ),
        RuleText(
            title="Votre solde minimum est trop bas pour votre plus gros remboursement",
            meaning=(
                "Après un versement, les remboursements sont payés à même ce que le solde "
                "minimum retient et le solde de préfinancement. Ensemble, ces deux montants "
                "sont inférieurs à la plus grosse somme qu’un résident pourrait encore se "
                "faire rembourser sur un paiement récent."
            ),
            why=(
                "Dans cette devise, votre solde minimum additionné à votre solde de "
                "préfinancement est inférieur à votre exposition aux remboursements."
            ),
            action=(
                "Demandez à l’équipe de soutien de la plateforme de porter votre solde minimum "
                "au moins au niveau de votre plus gros paiement remboursable, ou versez le "
                "montant indiqué dans votre solde de préfinancement."
            ),
            summary="Votre solde minimum ({minimum}) et votre préfinancement ({prefund}) "
                    "laissent un manque de {amount} par rapport à votre plus gros paiement "
                    "remboursable ({exposure}).",
            finding_action=(
                "Demandez à l’équipe de soutien de la plateforme de porter votre solde minimum "
                "de {minimum} à au moins {suggested_minimum}, ou versez {amount} dans votre "
                "solde de préfinancement {funding_method}."
            ),
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
                "Top up your prefunding balance by bank wire (or ACH in the United States), as "
                "shown on the help page “Adding funds for refunds and disputes”."
            ),
            # With a target, see REWORDINGS: adding it would bring the balance *to* it.
            summary="Your prefunding balance is empty; adding {amount} would bring it back to "
                    "its previous level.",
            finding_action=(
                "Add {amount} to your prefunding balance {funding_method}, as shown on the "
                "help page “Adding funds for refunds and disputes”."
            ),
        ),
        RuleText(
            title="Votre solde de préfinancement est vide",
            meaning=(
                "Le solde de préfinancement est l’argent que l’immeuble a lui-même déposé "
                "pour les remboursements et les litiges à venir. Stripe y puise quand le "
                "solde des paiements ne suffit pas. Il ne se renfloue jamais tout seul."
            ),
            why=(
                "Votre solde de préfinancement dans cette devise est à zéro, alors qu’il "
                "contenait de l’argent lors de la vérification précédente ou qu’un montant "
                "cible est fixé pour lui."
            ),
            action=(
                "Renflouez votre solde de préfinancement par virement bancaire (ou paiement "
                "ACH aux États-Unis), en suivant la page d’aide « Ajouter des fonds pour les "
                "remboursements et les litiges »."
            ),
            summary="Votre solde de préfinancement est vide; un dépôt de {amount} le "
                    "ramènerait à son niveau précédent.",
            finding_action=(
                "Versez {amount} dans votre solde de préfinancement {funding_method}, en "
                "suivant la page d’aide « Ajouter des fonds pour les remboursements et les "
                "litiges »."
            ),
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
            action=(
                "Add the missing amount to your prefunding balance by bank wire (or ACH in the "
                "United States)."
            ),
            summary="Your prefunding balance is {prefund}, which is {amount} below its target "
                    "of {target}.",
            finding_action=(
                "Add {amount} to your prefunding balance {funding_method} to bring it back to "
                "its target."
            ),
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
                "bancaire (ou paiement ACH aux États-Unis)."
            ),
            summary="Votre solde de préfinancement est de {prefund}, soit {amount} de moins "
                    "que sa cible de {target}.",
            finding_action=(
                "Versez {amount} dans votre solde de préfinancement {funding_method} pour le "
                "ramener à sa cible."
            ),
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
            finding_action=(
                "Check that the refund or dispute behind it was expected, then add {amount} "
                "back to your prefunding balance {funding_method} if you want to keep the "
                "same protection."
            ),
        ),
        RuleText(
            title="Votre solde de préfinancement a servi",
            meaning=(
                "Stripe a prélevé de l’argent dans le solde de préfinancement, le plus "
                "souvent pour payer un remboursement ou un litige que le solde des paiements "
                "ne pouvait pas couvrir. Cet argent ne revient pas tout seul."
            ),
            why=(
                "Votre solde de préfinancement dans cette devise est plus bas qu’à la "
                "vérification précédente."
            ),
            action=(
                "Confirmez que le remboursement ou le litige en cause était prévu, puis "
                "renflouez le solde de préfinancement si vous voulez garder la même "
                "protection."
            ),
            summary="Votre solde de préfinancement est passé de {previous} à {prefund} : "
                    "un montant de {amount} a été utilisé.",
            finding_action=(
                "Confirmez que le remboursement ou le litige en cause était prévu, puis "
                "reversez {amount} dans votre solde de préfinancement {funding_method} si "
                "vous voulez garder la même protection."
            ),
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
                "Stripe a cessé d’envoyer l’argent de l’immeuble à son compte bancaire. Les "
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
                "Une réserve est de l’argent que Stripe met de côté sur les paiements "
                "pendant une période définie, afin que les remboursements et les litiges "
                "puissent toujours être payés. À la date de déblocage, l’argent revient dans "
                "le solde disponible et part avec le versement suivant."
            ),
            why="Stripe retient actuellement des fonds en réserve sur ce compte dans cette devise.",
            action=(
                "Rien à faire; consultez la page d’aide sur les réserves pour savoir comment "
                "et quand l’argent revient."
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
                "L’argent que Stripe retenait en réserve devient disponible à sa date de "
                "déblocage et part vers la banque avec le premier versement prévu après "
                "cette date."
            ),
            why=(
                "Des fonds en réserve de ce compte doivent être débloqués dans les prochains "
                "jours (deux semaines, sauf si votre plateforme a choisi autrement)."
            ),
            action=(
                "Rien à faire; l’argent arrivera dans votre compte bancaire après le premier "
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
            title="La vérification de nuit n’a pas pu être effectuée",
            meaning=(
                "Balance Guard n’a pas réussi à lire les données de ce compte chez Stripe, "
                "même après plusieurs tentatives; il ne peut donc pas dire si les "
                "remboursements sont protégés."
            ),
            why=(
                "Stripe a refusé les demandes faites pour ce compte pendant la vérification "
                "de nuit, ou n’y a pas répondu."
            ),
            action=(
                "Rien à faire de votre côté : l’équipe des opérations de la plateforme est "
                "avisée, et la prochaine vérification fera un nouvel essai."
            ),
            summary="Ce compte n’a pas pu être vérifié pendant la vérification de nuit.",
        ),
    ),
])

# Why guaranteed capacity falls short (REFUND_CAPACITY_SHORT `details.cause`): what the
# cause means, without values. What to do about it is in `CAUSE_ACTIONS`.
CAUSES: dict[CapacityShortCause, dict[str, str]] = {
    CapacityShortCause.MANUAL_PAYOUTS: {
        "en": (
            "Payouts on this account are manual or turned off, so a minimum balance does not "
            "apply: only today's balance and the prefunding balance count, and a manual payout "
            "could take the balance away at any time."
        ),
        "fr": (
            "Les versements de ce compte sont manuels ou suspendus : aucun solde minimum ne "
            "s’applique, seuls le solde du jour et le solde de préfinancement comptent, et un "
            "versement manuel pourrait vider le solde à tout moment."
        ),
    },
    # Payouts are automatic but Stripe would not show the balance settings (rules.py):
    # capacity counts only the prefunding, and the reader must get the minimum confirmed.
    CapacityShortCause.MINIMUM_BALANCE_UNKNOWN: {
        "en": (
            "We could not read the building's minimum balance from Stripe, so we cannot tell "
            "whether one is set, and only the prefunding balance is counted as sure to be there."
        ),
        "fr": (
            "Nous n’avons pas pu lire le solde minimum de l’immeuble chez Stripe : nous ne "
            "savons donc pas s’il y en a un, et seul le solde de préfinancement est compté "
            "comme assuré."
        ),
    },
    CapacityShortCause.NO_MINIMUM_BALANCE: {
        "en": (
            "No minimum balance is set, so each automatic payout can empty the balance and "
            "leave only the prefunding balance for refunds."
        ),
        "fr": (
            "Aucun solde minimum n’est défini : chaque versement automatique peut vider le "
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
            "inférieur au plus gros remboursement qu’un résident pourrait demander."
        ),
    },
    CapacityShortCause.BALANCE_BELOW_MINIMUM: {
        "en": (
            "The minimum balance would be enough, but the balance has not reached it yet; it "
            "fills up as residents pay, and refunds are exposed until then."
        ),
        "fr": (
            "Le solde minimum suffirait, mais le solde ne l’a pas encore atteint; il se "
            "remplit au fil des paiements des résidents, et les remboursements sont exposés "
            "d’ici là."
        ),
    },
}

# A short heading for each cause (help site, operations digest).
CAUSE_LABELS: dict[CapacityShortCause, dict[str, str]] = {
    CapacityShortCause.MANUAL_PAYOUTS: {
        "en": "Payouts are manual or turned off",
        "fr": "Versements manuels ou suspendus",
    },
    CapacityShortCause.MINIMUM_BALANCE_UNKNOWN: {
        "en": "The minimum balance could not be read",
        "fr": "Solde minimum impossible à lire",
    },
    CapacityShortCause.NO_MINIMUM_BALANCE: {
        "en": "No minimum balance is set",
        "fr": "Aucun solde minimum défini",
    },
    CapacityShortCause.MINIMUM_BELOW_EXPOSURE: {
        "en": "The minimum balance is too low",
        "fr": "Solde minimum trop bas",
    },
    CapacityShortCause.BALANCE_BELOW_MINIMUM: {
        "en": "The balance has not reached the minimum yet",
        "fr": "Solde pas encore au niveau du minimum",
    },
}

# What to do about each cause, naming the finding's figures: `amount` is the shortfall
# (R - C), `suggested_minimum` the refund exposure rounded up as MIN_BALANCE_NOT_SET
# suggests it (so that an email naming both says one figure). Emails show this instead of
# the rule's general action; a value-free wording of each is in CAUSE_ACTIONS_GENERIC.
CAUSE_ACTIONS: dict[CapacityShortCause, dict[str, str]] = {
    CapacityShortCause.MANUAL_PAYOUTS: {
        "en": (
            "Ask the platform's support team to turn automatic payouts back on with a minimum "
            "balance of at least {suggested_minimum} (a minimum balance only works with "
            "automatic payouts), or add {amount} to your prefunding balance {funding_method}."
        ),
        "fr": (
            "Demandez à l’équipe de soutien de la plateforme de réactiver les versements "
            "automatiques avec un solde minimum d’au moins {suggested_minimum} (un solde "
            "minimum ne fonctionne qu’avec les versements automatiques), ou versez {amount} "
            "dans votre solde de préfinancement {funding_method}."
        ),
    },
    CapacityShortCause.MINIMUM_BALANCE_UNKNOWN: {
        "en": (
            "Ask the platform's support team to confirm that your minimum balance is at least "
            "{exposure}, or add {amount} to your prefunding balance {funding_method}."
        ),
        "fr": (
            "Demandez à l’équipe de soutien de la plateforme de confirmer que votre solde "
            "minimum atteint au moins {exposure}, ou versez {amount} dans votre solde de "
            "préfinancement {funding_method}."
        ),
    },
    CapacityShortCause.NO_MINIMUM_BALANCE: {
        "en": (
            "Ask the platform's support team to set a minimum balance of at least "
            "{suggested_minimum} (they need your consent), or add {amount} to your prefunding "
            "balance {funding_method} so that refunds are covered right away."
        ),
        "fr": (
            "Demandez à l’équipe de soutien de la plateforme de fixer un solde minimum d’au "
            "moins {suggested_minimum} (elle a besoin de votre accord), ou versez {amount} "
            "dans votre solde de préfinancement {funding_method} pour que les "
            "remboursements soient couverts sur-le-champ."
        ),
    },
    CapacityShortCause.MINIMUM_BELOW_EXPOSURE: {
        "en": (
            "Ask the platform's support team to raise your minimum balance from {minimum} to "
            "at least {suggested_minimum}, or add {amount} to your prefunding balance "
            "{funding_method}."
        ),
        "fr": (
            "Demandez à l’équipe de soutien de la plateforme de porter votre solde minimum de "
            "{minimum} à au moins {suggested_minimum}, ou versez {amount} dans votre solde de "
            "préfinancement {funding_method}."
        ),
    },
    CapacityShortCause.BALANCE_BELOW_MINIMUM: {
        "en": (
            "Your minimum balance is enough, so there is nothing to change: add {amount} to "
            "your prefunding balance {funding_method} so that refunds are covered now, or "
            "wait for residents' payments to fill the balance up to the minimum."
        ),
        "fr": (
            "Votre solde minimum suffit, il n’y a donc rien à modifier : versez {amount} dans "
            "votre solde de préfinancement {funding_method} pour que les remboursements soient "
            "couverts dès maintenant, ou attendez que les paiements des résidents remplissent "
            "le solde jusqu’au minimum."
        ),
    },
}

# How a reader adds money to the prefunding balance, by the account's country: in Canada a
# bank wire is the only choice, in the United States an ACH payment is one too. "" is for
# a reader whose country is not known (and for texts without values).
FUNDING_METHODS: dict[str, dict[str, str]] = {
    "CA": {"en": "by bank wire", "fr": "par virement bancaire"},
    "US": {"en": "by bank wire or ACH", "fr": "par virement bancaire ou paiement ACH"},
    "": {
        "en": "by bank wire (or ACH in the United States)",
        "fr": "par virement bancaire (ou paiement ACH aux États-Unis)",
    },
}


def funding_method(country: str | None, language: str) -> str:
    """`by bank wire` for a Canadian account; ACH is a choice only in the United States."""
    if not country:
        return FUNDING_METHODS[""][language]
    code = country.strip().upper()
    return FUNDING_METHODS.get(code, FUNDING_METHODS["CA"])[language]


# The words a value-free text puts where an email names a figure.
GENERIC_VALUES: dict[str, dict[str, str]] = {
    "en": {
        "amount": "the missing amount",
        "exposure": "your refund exposure",
        "suggested_minimum": "your refund exposure",
        "minimum": "its current level",
        "funding_method": FUNDING_METHODS[""]["en"],
    },
    "fr": {
        "amount": "la somme manquante",
        "exposure": "votre exposition aux remboursements",
        "suggested_minimum": "votre exposition aux remboursements",
        "minimum": "son niveau actuel",
        "funding_method": FUNDING_METHODS[""]["fr"],
    },
}

# CAUSE_ACTIONS without values, for `explain` and the help site.
CAUSE_ACTIONS_GENERIC: dict[CapacityShortCause, dict[str, str]] = {
    cause: {lang: text.format_map(GENERIC_VALUES[lang]) for lang, text in texts.items()}
    for cause, texts in CAUSE_ACTIONS.items()
}


class Context(StrEnum):
    """A finding worded for the email it is in (chosen by `domain/advice.py`)."""

    # PREFUND_DEPLETED with a target: adding it brings the balance *to* its target.
    PREFUND_EMPTY_TO_TARGET = "prefund_empty_to_target"
    # PREFUND_DEPLETED absorbing the PREFUND_USED of the same currency: one block, one story.
    PREFUND_EMPTY_ALL_USED = "prefund_empty_all_used"
    PREFUND_EMPTY_ALL_USED_TO_TARGET = "prefund_empty_all_used_to_target"
    # PREFUND_USED down to zero.
    PREFUND_ALL_USED = "prefund_all_used"
    # MIN_BALANCE_BELOW_EXPOSURE next to the REFUND_CAPACITY_SHORT it explains.
    MINIMUM_GAP_IN_CRITICAL = "minimum_gap_in_critical"
    # MIN_BALANCE_NOT_SET next to a REFUND_CAPACITY_SHORT asking for the same minimum.
    MINIMUM_ASKED_IN_CRITICAL = "minimum_asked_in_critical"


class Rewording(BaseModel):
    """A rule's summary and/or email action as worded in one `Context`; what it leaves
    empty keeps the rule's own text."""

    model_config = ConfigDict(frozen=True)

    code: RuleCode
    summary: dict[str, str] = Field(default_factory=dict)
    action: dict[str, str] = Field(default_factory=dict)


_ALL_USED_SUMMARY = {
    "en": "All of your prefunding balance ({previous}) was used since the previous check; "
          "it is now empty.",
    "fr": "Tout votre solde de préfinancement ({previous}) a été utilisé depuis la "
          "vérification précédente; il est maintenant vide.",
}

REWORDINGS: dict[Context, Rewording] = {
    Context.PREFUND_EMPTY_TO_TARGET: Rewording(
        code=RuleCode.PREFUND_DEPLETED,
        summary={
            "en": "Your prefunding balance is empty; adding {amount} would bring it to its "
                  "target.",
            "fr": "Votre solde de préfinancement est vide; un dépôt de {amount} l’amènerait à "
                  "sa cible.",
        },
    ),
    Context.PREFUND_EMPTY_ALL_USED: Rewording(
        code=RuleCode.PREFUND_DEPLETED,
        summary=_ALL_USED_SUMMARY,
        action={
            "en": "Check that the refund or dispute behind it was expected, then add {amount} "
                  "to your prefunding balance {funding_method} to bring it back to its "
                  "previous level.",
            "fr": "Confirmez que le remboursement ou le litige en cause était prévu, puis "
                  "versez {amount} dans votre solde de préfinancement {funding_method} pour le "
                  "ramener à son niveau précédent.",
        },
    ),
    Context.PREFUND_EMPTY_ALL_USED_TO_TARGET: Rewording(
        code=RuleCode.PREFUND_DEPLETED,
        summary=_ALL_USED_SUMMARY,
        action={
            "en": "Check that the refund or dispute behind it was expected, then add {amount} "
                  "to your prefunding balance {funding_method} to bring it to its target.",
            "fr": "Confirmez que le remboursement ou le litige en cause était prévu, puis "
                  "versez {amount} dans votre solde de préfinancement {funding_method} pour "
                  "l’amener à sa cible.",
        },
    ),
    Context.PREFUND_ALL_USED: Rewording(
        code=RuleCode.PREFUND_USED,
        summary={
            "en": "Your prefunding balance went from {previous} to zero: all of it was used.",
            "fr": "Votre solde de préfinancement est passé de {previous} à zéro : tout a été "
                  "utilisé.",
        },
    ),
    Context.MINIMUM_GAP_IN_CRITICAL: Rewording(
        code=RuleCode.MIN_BALANCE_BELOW_EXPOSURE,
        summary={
            "en": "Your minimum balance ({minimum}) plus your prefunding ({prefund}) is less "
                  "than your largest refundable payment ({exposure}): this is the gap shown in "
                  "the critical alert above.",
            "fr": "Votre solde minimum ({minimum}) et votre préfinancement ({prefund}) sont "
                  "inférieurs à votre plus gros paiement remboursable ({exposure}) : c’est "
                  "l’écart signalé dans l’alerte critique ci-dessus.",
        },
        action={
            "en": "The step given in the critical alert above fixes this too.",
            "fr": "L’étape indiquée dans l’alerte critique ci-dessus règle aussi ce point.",
        },
    ),
    Context.MINIMUM_ASKED_IN_CRITICAL: Rewording(
        code=RuleCode.MIN_BALANCE_NOT_SET,
        action={
            "en": "This is the minimum balance the critical alert above asks for: ask the "
                  "platform's support team to set it to at least {amount}; they need your "
                  "consent to do it.",
            "fr": "C’est le solde minimum demandé dans l’alerte critique ci-dessus : demandez "
                  "à l’équipe de soutien de la plateforme de le fixer à au moins {amount}; elle "
                  "a besoin de votre accord pour le faire.",
        },
    ),
}

# Each rule in a few words, for operations (digest): no "you", the building is named
# beside it.
OPERATOR_TITLES: dict[RuleCode, dict[str, str]] = {
    RuleCode.NEGATIVE_BALANCE: {"en": "Balance below zero", "fr": "Solde négatif"},
    RuleCode.REFUND_BLOCKED: {"en": "Refunds on hold for lack of funds",
                              "fr": "Remboursements en attente faute de fonds"},
    RuleCode.REFUND_CAPACITY_SHORT: {"en": "Largest refund not covered",
                                     "fr": "Plus gros remboursement non couvert"},
    RuleCode.MIN_BALANCE_NOT_SET: {"en": "No minimum balance",
                                   "fr": "Aucun solde minimum"},
    RuleCode.MIN_BALANCE_BELOW_EXPOSURE: {"en": "Minimum balance below refund exposure",
                                          "fr": "Solde minimum sous l’exposition"},
    RuleCode.PREFUND_DEPLETED: {"en": "Prefunding empty", "fr": "Préfinancement vide"},
    RuleCode.PREFUND_BELOW_TARGET: {"en": "Prefunding below target",
                                    "fr": "Préfinancement sous la cible"},
    RuleCode.PREFUND_USED: {"en": "Prefunding used", "fr": "Préfinancement utilisé"},
    RuleCode.PAYOUTS_DISABLED: {"en": "Payouts disabled", "fr": "Versements désactivés"},
    RuleCode.RESERVE_HELD: {"en": "Funds held in reserve", "fr": "Fonds retenus en réserve"},
    RuleCode.RESERVE_RELEASE_UPCOMING: {"en": "Reserve release coming",
                                        "fr": "Déblocage de réserve à venir"},
    RuleCode.CHECK_FAILED: {"en": "Check failed", "fr": "Vérification échouée"},
}  # fmt: skip


# Extra sentences a renderer adds when a finding's details call for them.
NOTES: dict[str, dict[str, str]] = {
    # RESERVE_RELEASE_UPCOMING while the balance is below its minimum: released funds refill
    # the minimum first.
    "minimum_balance_retains": {
        "en": (
            "Your minimum balance is not full yet, so Stripe keeps the first "
            "{minimum_balance_retains} of the released money to refill it before any payout."
        ),
        "fr": (
            "Votre solde minimum n’est pas encore atteint : Stripe garde d’abord "
            "{minimum_balance_retains} de l’argent débloqué pour le compléter, avant tout "
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
        "fr": ("D’où vient l’argent",
               "Des paiements des résidents : Stripe retient le montant avant chaque "
               "versement automatique",
               "Vous l’envoyez vous-même, par virement bancaire (Canada ou États-Unis) ou par "
               "paiement ACH (États-Unis seulement)"),
    }),
    ComparisonRow(key="refills", cells={
        "en": ("Fills up again by itself",
               "Yes, from incoming payments",
               "No: once used, you must add money again"),
        "fr": ("Se renfloue tout seul",
               "Oui, grâce aux paiements qui entrent",
               "Non : une fois utilisé, vous devez y remettre de l’argent"),
    }),
    ComparisonRow(key="automatic_payouts", cells={
        "en": ("Part of automatic payouts",
               "No: the minimum stays in Stripe and only what is above it is paid out",
               "No, never"),
        "fr": ("Inclus dans les versements automatiques",
               "Non : le minimum reste chez Stripe et seul l’excédent est versé",
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
               "L’équipe de soutien de la plateforme, avec votre accord",
               "Vous, depuis votre tableau de bord Stripe Express"),
    }),
    ComparisonRow(key="upkeep", cells={
        "en": ("Upkeep",
               "Almost none once set",
               "Needs watching: easy to forget, and a refund fails if it runs dry"),
        "fr": ("Suivi nécessaire",
               "Presque aucun une fois en place",
               "À surveiller : facile à oublier, et un remboursement échoue s’il est à sec"),
    }),
    ComparisonRow(key="when", cells={
        "en": ("When to use it",
               "Every account: the recommended protection",
               "Special cases, such as a refund larger than your minimum balance"),
        "fr": ("Quand l’utiliser",
               "Pour tous les comptes : c’est la protection recommandée",
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
        "help_page": "Page d’aide",
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
        "event_hold_transaction": "Une part d’un paiement est mise en réserve",
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
