"""Emails to building admins and to operations: recipients, rendering, the nightly digest."""
