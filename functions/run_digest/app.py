"""run_digest: `{"run_id"}` -> the run's report to S3 and the operations digest."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from balance_guard.aws.run_digest import run_digest


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_digest(event, context)
