"""One account's check and the nightly pipeline both shells share: read Stripe, build the
snapshot, apply the rules, store the state, hand the result to the notifier. Imports
domain/, stripe/, report/ and text/.
"""
