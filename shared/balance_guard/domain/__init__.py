"""The pure core: money, snapshot, policy, rules, ledger, reserves, payout calendar,
notification policy, headline, and the rule catalog's structure. Imports nothing of this
package outside domain/, and no I/O, clock, environment, Stripe or AWS: the standard
library's pure parts, pydantic and holidays only.
"""
