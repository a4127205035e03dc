"""The AWS run's memory in one DynamoDB table, one module per role the table plays.

Single-table design, string keys `pk` / `sk`, TTL attribute `ttl`:

    pk                          sk               item                              module
    ACCOUNT#<acct>              STATE            AccountState (zlib JSON;          state
                                                 STATE#<n> chunks if big)
    ACCOUNT#<acct>              SENT#<as_of>     that date's email: a leased       send_log
                                                 `sending`, then `sent`
    ACCOUNT#<acct>              FINDING#<key>    when a finding was last emailed,  send_log
                                                 and its cause
    RUN#<run_id>                RUN              as_of, phase, expected / done     ledger
                                                 counts, claims
    RUN#<run_id>#<shard>        ACCOUNT#<acct>   the account as listed; once       ledger
                                                 checked, its report
    ACCOUNT#<acct>              RECHECK          the account's webhook coalescing  webhook
                                                 window (one re-check per burst)
    EVENT#<evt_id>              SEEN             a webhook event received (a       webhook
                                                 week's TTL: replays refused)
    IDEMPOTENCY#check_account   <hash>           Powertools Idempotency records    aws.runtime
    BUDGET#<budget>             <key>            the shared Stripe request budget  aws.budget

`_common` holds what they share: keys, conversion (boto3's serializers), the one retry
policy. Import from here; the modules behind it are free to move.
"""

from balance_guard.aws.dynamo._common import (
    CONDITION_FAILED,
    THROTTLED,
    UnprocessedWritesError,
)
from balance_guard.aws.dynamo.ledger import (
    QUEUED,
    QUEUING,
    RECORDING,
    AccountResult,
    Lease,
    LeaseLostError,
    Opened,
    Pending,
    ReportTooLargeError,
    RunLedger,
    RunProgress,
    RunRecord,
)
from balance_guard.aws.dynamo.send_log import SENDING, SENT, DynamoNotificationLog
from balance_guard.aws.dynamo.state import DynamoStateStore, StateTooLargeError
from balance_guard.aws.dynamo.webhook import (
    Claim,
    DynamoSeenEvents,
    RecheckWindows,
    Window,
    WindowThrottledError,
)

__all__ = [
    "CONDITION_FAILED",
    "QUEUED",
    "QUEUING",
    "RECORDING",
    "SENDING",
    "SENT",
    "THROTTLED",
    "AccountResult",
    "Claim",
    "DynamoNotificationLog",
    "DynamoSeenEvents",
    "DynamoStateStore",
    "Lease",
    "LeaseLostError",
    "Opened",
    "Pending",
    "RecheckWindows",
    "ReportTooLargeError",
    "RunLedger",
    "RunProgress",
    "RunRecord",
    "StateTooLargeError",
    "UnprocessedWritesError",
    "Window",
    "WindowThrottledError",
]
