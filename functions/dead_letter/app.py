"""dead_letter: the check queue's dead letters -> their accounts recorded as not checked."""

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from balance_guard.aws.dead_letter import dead_letter


def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return dead_letter(event, context)
