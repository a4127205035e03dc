"""Balance Guard on AWS Lambda: settings, DynamoDB adapters and the four functions' logic.

One module per function (`plan_run`, `check_account`, `run_digest`, `dead_letter`), called by
`functions/*/app.py`, and `common` for what they share; everything here is imported only
inside Lambda (or tests), never by the CLI.
"""
