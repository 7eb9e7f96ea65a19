"""The one retry policy of every request exodus makes: `await policy.run(op)`, on
tenacity.

- A `Transient` failure is tried again after a pause: the server's Retry-After when it
  sent one, else exponential backoff with jitter (EXODUS_BACKOFF, doubling, capped), up
  to `attempts` failures in all; the last one is raised.
- A `Throttled` one (HTTP 429) pauses every caller of the policy, not only the one that
  heard it: the client as a whole is over the limit. 429s of one burst (requests sent
  before the pause was decided) share that pause instead of each lengthening it. A
  `patient` policy never counts a 429 as a failure (Flickr's quota: wait and go on).
- Anything else, `Permanent` included, is raised at once; a `Permanent` learns whether
  an earlier try may have reached the server unanswered (`maybe_sent`).

Each wait is told through `on_wait(attempt, seconds, error)` before it starts, so that
the user hears why nothing moves ("waiting for Flickr (attempt N, next in S s): why").
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from typing import Awaitable, Callable, TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

from ..knobs import backoff_base
from .errors import Permanent, Throttled, Transient

T = TypeVar("T")
OnWait = Callable[[int, float, BaseException], None]


def backoff(failures: int, cap: float) -> float:
    """The pause after the Nth failure in a row: full jitter over the upper half of an
    exponential ceiling (EXODUS_BACKOFF, doubling), so that callers failing together do
    not come back together."""
    ceiling = min(cap, backoff_base() * 2 ** min(failures - 1, 10))
    return random.uniform(ceiling / 2, ceiling)


class Pause:
    """One pause for every caller of a policy, set by a 429."""

    def __init__(self):
        self.until = 0.0
        self.began = float("-inf")  # when the pause in force was decided
        self.streak = 0              # 429 bursts with no success between them
        self.length = 0.0            # of the pause in force

    async def wait(self) -> None:
        """Until the pause is over; then, for a caller that was held, a random part of the
        pause more, so that the callers come back spread out instead of all at once into
        the same limit (which answers most of them with another 429)."""
        held = False
        while (left := self.until - time.monotonic()) > 0:
            held = True
            await asyncio.sleep(left)
        if held:
            await asyncio.sleep(random.uniform(0, self.length))

    def throttled(self, retry_after: float | None, sent_at: float, cap: float) -> float:
        """A 429 to a request sent at `sent_at`: the seconds until every caller may go on."""
        now = time.monotonic()
        if sent_at < self.began:  # sent before this pause was decided: the same burst
            wait = retry_after or 0.0
        else:
            self.streak += 1
            self.began = now
            wait = retry_after if retry_after is not None else backoff(self.streak, cap)
        self.until = max(self.until, now + wait)
        self.length = self.until - now
        return self.length

    def ok(self) -> None:
        self.streak = 0


@dataclass
class _Run:
    """One `Policy.run`: what its tries have learnt so far."""
    failures: int = 0          # that count towards the policy's attempts
    maybe_sent: bool = False   # an earlier try may have reached the server unanswered
    sent_at: float = 0.0       # when the last try was sent
    delay: float = 0.0         # the wait before the next try, as told to the user


class Policy:
    """How often and how long to try again; one per client, shared by its concurrent
    callers (the 429 pause and the counters are theirs together)."""

    def __init__(self, attempts: int, cap: float = 60.0, patient: bool = False,
                 on_wait: OnWait | None = None):
        self.attempts = max(1, attempts)  # failures before the last one is raised
        self.cap = cap                    # the longest backoff, in seconds
        self.patient = patient            # a 429 never counts as a failure
        self.on_wait = on_wait
        self.pause = Pause()
        self.retries = 0    # waits for another try, 429s included
        self.throttled = 0  # of which for a 429

    async def run(self, op: Callable[[], Awaitable[T]], on_wait: OnWait | None = None) -> T:
        """op(), tried again per the policy; `on_wait` (else the policy's) hears each wait.
        tenacity drives the tries; what is a failure, how long to wait and the shared
        pause are this policy's."""
        tell = on_wait or self.on_wait
        run = _Run()
        first: Transient | None = None

        async def attempt() -> T:
            nonlocal first
            if first is not None:  # the first try, made before tenacity was called in
                replayed, first = first, None
                raise replayed
            await self.pause.wait()  # a 429's pause holds every caller, this one included
            run.sent_at = time.monotonic()
            try:
                result = await op()
            except Transient as error:
                run.failures += 0 if self.patient and isinstance(error, Throttled) else 1
                run.maybe_sent = run.maybe_sent or error.maybe_sent
                raise
            except Permanent as error:
                error.maybe_sent = error.maybe_sent or run.maybe_sent
                raise
            self.pause.ok()
            return result

        def stop(state: RetryCallState) -> bool:
            return run.failures >= self.attempts

        def wait(state: RetryCallState) -> float:
            if stop(state):  # tenacity ≥ 9 asks for the wait before whether to stop
                return 0.0
            error = state.outcome.exception()
            run.delay = self._delay(error, run.failures, run.sent_at)
            # A 429's pause is waited at the top of the next attempt, with every caller.
            return 0.0 if isinstance(error, Throttled) else run.delay

        def before_sleep(state: RetryCallState) -> None:
            if tell is not None:
                tell(state.attempt_number, run.delay, state.outcome.exception())

        # tenacity spends about 0.3 ms of CPU on each call it runs (it inspects its
        # callbacks on every try), as much as the request itself; most calls succeed at
        # once, so the first try is made here and tenacity is called in after a failure,
        # with that try's outcome as its own first.
        try:
            return await attempt()
        except Transient as error:
            if run.failures >= self.attempts:
                raise
            first = error
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(Transient),  # anything else is raised at once
            stop=stop,
            wait=wait, before_sleep=before_sleep, sleep=asyncio.sleep, reraise=True)
        return await retrying(attempt)

    def _delay(self, error: Transient, failures: int, sent_at: float) -> float:
        self.retries += 1
        if isinstance(error, Throttled):
            self.throttled += 1
            return self.pause.throttled(error.retry_after, sent_at, self.cap)
        return error.retry_after if error.retry_after is not None else backoff(failures, self.cap)
