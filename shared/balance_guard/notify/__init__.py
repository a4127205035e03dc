"""Emails: who gets one and when, rendering, the operations digest, the senders (outbox,
SES) and the send log that makes each email go out once. Imports domain/, report/ and
text/.
"""
