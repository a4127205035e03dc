"""webhook: one Stripe Connect event through the Function URL -> a re-check queued."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from balance_guard.aws.webhook import webhook


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return webhook(event, context)
