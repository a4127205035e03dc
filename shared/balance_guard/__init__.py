"""Balance Guard: can every connected account still refund and absorb disputes tonight?"""

__version__ = "0.1.0"
