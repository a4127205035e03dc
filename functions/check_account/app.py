"""check_account: one SQS batch of accounts to check; failed records go back to the queue."""

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from balance_guard.aws.check_account import check_account


def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return check_account(event, context)
