"""Stripe Connect webhooks: an event about a connected account becomes, minutes later, a
re-check of that account through the night's pipeline.

`verify` (signature, size, shape), `events` (which events matter and the rules each can
change), `seen` (event ids already received, to refuse replays), `coalesce` (events of one
account within a window become one re-check), `receiver` (one request in, one answer out:
the three above, no socket), `recheck` (one account's re-check and real-time email) are
shared by both shells; `server` and `worker` are the local shell of `balance-guard listen`.
A Lambda handler is `Receiver.handle` on the Function URL's body and headers, with a
DynamoDB `SeenEvents` and a queue-backed `Pending` sink injected.
"""
