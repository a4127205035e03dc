"""The `balance-guard` command: options, sub-commands, the console, `explain` and
`reserve-simulate`. The only package besides aws/ that wires the others together.
"""
