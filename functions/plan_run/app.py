"""plan_run: the nightly schedule's target. Lists the accounts and queues their checks."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from balance_guard.aws.plan_run import plan_run


def handler(event: dict[str, Any] | None, context: LambdaContext) -> dict[str, Any]:
    return plan_run(event, context)
