"""Balance Guard on AWS Lambda: settings, DynamoDB adapters and the four functions' logic.

`functions/*/app.py` call `balance_guard.aws.handlers`; everything here is imported only
inside Lambda (or tests), never by the CLI.
"""
