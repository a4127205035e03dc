"""How words, money and dates are written for a reader, and which of Stripe's text is safe
to show. Imports domain/ only.
"""
