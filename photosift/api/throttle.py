"""Owner sign-ins are rate-limited per client address (``limits``' moving window, in this process's memory).

Every sign-in with a secret (an API key or the owner password) counts, right or wrong: past ``OWNER_SIGN_INS`` from
one address, sign-in answers 429 with ``Retry-After`` before looking at the secret. Guessing the password is thus
slow, and the Argon2 checks a guesser can make the server run are bounded. Share links are not limited: their tokens
are random (256 bits) and a group behind one address opens them together. Behind a reverse proxy that does not pass
on the client's address, every client shares one budget: a stranger can then delay the owner's sign-in by a minute,
while API keys keep working. Each API node counts on its own.
"""

from __future__ import annotations

import math
import time

from limits import parse, storage, strategies

from photosift.errors import TooManyAttempts

OWNER_SIGN_INS = "10/minute"


class SignInThrottle:
    """Counts owner sign-ins per client address and refuses those over the rate."""

    def __init__(self, rate: str = OWNER_SIGN_INS) -> None:
        self._rate = parse(rate)
        self._limiter = strategies.MovingWindowRateLimiter(storage.MemoryStorage())

    def attempt(self, client: str) -> None:
        """Count one sign-in from ``client``; raises ``TooManyAttempts`` when it is over the rate."""
        if not self._limiter.hit(self._rate, client):
            reset = self._limiter.get_window_stats(self._rate, client).reset_time
            wait = max(1, math.ceil(reset - time.time()))
            raise TooManyAttempts(f"too many sign-ins from this address; try again in {wait} s", retry_after=wait)
