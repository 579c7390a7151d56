"""Rate limits (STANDARDS 8, 29, 30), counted with the ``limits`` library.

- Logins: every attempt at a token route counts against the account (the ``username``
  parameter, normalised) and against the client address, before any password work, so a flood
  costs no argon2 time. The check has to be one atomic check-and-count made before the verify,
  or parallel guesses would all pass a "failures so far" test before any failure was recorded.
  A right password then gives its account unit back (it is recorded as a success, and each
  success in the window raises the account's allowance by one), so the account budget counts
  failures: honest repeated logins are never refused, while an account over its budget is
  refused before any password work, right password or not. The address budget counts every
  attempt, because it protects the CPU.
- Authenticated calls: per version and principal, ``[versions.v<N>] rate_limit`` or
  ``ratelimit.authenticated``.

Strategies: logins use a *moving window*, which keeps each attempt's time, so "5 per minute"
means at most 5 in any 60 seconds (a fixed window lets 10 through across a boundary) and
``Retry-After`` is exact (the oldest attempt's time plus the window); login limits are small,
so the stored timestamps are few. Authenticated calls use a *sliding-window counter*: two
counters per principal instead of up to hundreds of timestamps, one cheap operation on the hot
path, and an approximation that is close enough for throughput limits.

Authenticated calls are counted in *leases*: when a limit is large, a principal's first call
reserves a few units at once (``cost=n`` in one store operation) and the next calls spend them
in process, with no store operation at all. A lease is at most 1% of the limit and is used
within 1% of the window (at most one second), so a limit is never exceeded by more than that
shift in time, and at most 1% of it may be counted early for a principal who stops calling.
Limits under 200 per window get leases of one: every call is counted as it happens, exactly.
This takes the store off nearly every request: a count in ``limits`` is work in memory and a
round trip with Redis (docs/bench.md has what a request costs).

The store is ``memory://`` (per process) or ``redis://host:port/db`` (shared by instances). When
Redis does not answer, logins fail closed (``StoreUnavailableError``: the token route answers 503)
and authenticated calls fail open (served unthrottled). Either way the store is left alone for
``STORE_RETRY_SECONDS`` after a failure, so a dead Redis costs one short timeout per interval,
not one per request, and the warning is logged at most once per ``WARN_EVERY_SECONDS``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import anyio.lowlevel
from limits import RateLimitItem, parse_many
from limits.aio.storage import MovingWindowSupport, Storage
from limits.aio.strategies import (
    MovingWindowRateLimiter,
    SlidingWindowCounterRateLimiter,
)
from limits.aio.strategies import RateLimiter as Strategy
from limits.errors import ConfigurationError, StorageError
from limits.storage import storage_from_string

from gateway.errors import LimitExceededError, SettingsError, StoreUnavailableError
from gateway.settings import Settings
from gateway.version_info import version_name

log = logging.getLogger("gateway")

# Redis keys start with this; tests set their own to keep apart from each other.
KEY_PREFIX = "gateway-ratelimit"
# Per connection attempt and per command. Redis answers in well under a millisecond on a LAN;
# coredis retries a timed-out or refused command twice, so a black-holed store costs about
# 3 x 0.3 s once per STORE_RETRY_SECONDS, never a stall on every request.
STORE_TIMEOUT_SECONDS = 0.3
STORE_RETRY_SECONDS = 5.0
WARN_EVERY_SECONDS = 60.0
# What the operator writes -> the async storage scheme limits expects.
SCHEMES = {
    "memory": "async+memory",
    "redis": "async+redis",
    "rediss": "async+rediss",
    "redis+unix": "async+redis+unix",
}
STORE_ERRORS = (StorageError, OSError, TimeoutError)
MAX_ACCOUNT_KEY = 64  # longer names cannot be accounts; hash them to bound the key size
LEASE_SHARE = 100  # a lease holds at most 1/LEASE_SHARE of a limit, for 1/LEASE_SHARE of its window
MAX_LEASE_SECONDS = 1.0
PRUNE_LEASES_ABOVE = 10_000  # principals with a lease before expired ones are dropped
MAX_SUCCESSES_COUNTED = 1000  # successful logins per account and window that give a unit back


@dataclass(slots=True)
class _Lease:
    """Units of one principal's limit already counted in the store, not yet spent."""

    units: int
    expires: float  # time.monotonic()


class RateLimiter:
    """The gateway's limits, parsed once, and the store that counts them."""

    def __init__(
        self,
        storage: Storage,
        *,
        login_per_account: RateLimitItem,
        login_per_address: RateLimitItem,
        authenticated: RateLimitItem,
        per_version: dict[int, RateLimitItem],
        shared: bool,
    ) -> None:
        self.storage = storage
        # Logins are counted on the store's moving windows directly: a success gives a unit
        # back, which the strategies of ``limits`` have no operation for.
        assert isinstance(storage, MovingWindowSupport)
        self._windows: MovingWindowSupport = storage
        self.shared = shared
        self.login_per_account = login_per_account
        self.login_per_address = login_per_address
        self.authenticated = authenticated
        self.per_version = per_version
        self._logins: Strategy = MovingWindowRateLimiter(storage)
        self._calls: Strategy = SlidingWindowCounterRateLimiter(storage)
        self._down_until = 0.0  # monotonic time before which the store is not asked
        self._leases: dict[tuple[int, str], _Lease] = {}
        self._prune_leases_at = PRUNE_LEASES_ABOVE
        self._next_warning = 0.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter:
        """Parse every limit and open the store; ``SettingsError`` names the first bad key."""
        section = settings.ratelimit
        per_version = {
            number: parse_limit(version.rate_limit, f"versions.v{number}.rate_limit")
            for number, version in settings.versions.configured.items()
            if version.rate_limit is not None
        }
        return cls(
            open_storage(section.storage_url),
            login_per_account=parse_limit(section.login_per_account, "ratelimit.login_per_account"),
            login_per_address=parse_limit(section.login_per_address, "ratelimit.login_per_address"),
            authenticated=parse_limit(section.authenticated, "ratelimit.authenticated"),
            per_version=per_version,
            shared=not section.storage_url.startswith("memory:"),
        )

    async def check_login(self, username: str, address: str | None) -> None:
        """Count one login attempt against the account and the address.

        Raises ``LimitExceededError``, or ``StoreUnavailableError`` when the store does not answer.
        """
        if not self._store_answers():
            raise StoreUnavailableError(self._retry_in())
        refused: list[tuple[str, int]] = []
        try:
            # Both counts always happen: an attempt counts against the account and the address.
            if retry_after := await self._count_account_attempt(account_key(username)):
                refused.append(("for this account", retry_after))
            ids = ("login-address", address_key(address))
            if not await self._logins.hit(self.login_per_address, *ids):
                retry_after = await self._retry_after(self._logins, self.login_per_address, ids)
                refused.append(("from this address", retry_after))
        except STORE_ERRORS as error:
            self._store_failed(error)
            raise StoreUnavailableError(self._retry_in()) from None
        self._store_recovered()
        if refused:
            retry_after = max(seconds for _, seconds in refused)
            who = " and ".join(who for who, _ in refused)
            raise LimitExceededError(
                f"Too many login attempts {who}; retry in {retry_after} seconds",
                retry_after,
            )

    async def login_succeeded(self, username: str) -> None:
        """Give back the account unit of an attempt whose password was right."""
        limit = self.login_per_account
        key = limit.key_for("login-success", account_key(username))
        try:
            await self._windows.acquire_entry(key, MAX_SUCCESSES_COUNTED, limit.get_expiry())
        except STORE_ERRORS as error:  # the login stands; only its unit stays spent
            self._store_failed(error)

    async def _count_account_attempt(self, account: str) -> int:
        """Count an attempt against the account; 0 if allowed, else seconds until a unit frees.

        The allowance is the limit plus the successes in the window: reading the successes and
        counting the attempt are two operations, but successes only ever raise the allowance, so
        a race can refuse one attempt too many, never let one guess too many through.
        """
        limit = self.login_per_account
        expiry = limit.get_expiry()
        attempts = limit.key_for("login-account", account)
        successes = limit.key_for("login-success", account)
        _, succeeded = await self._windows.get_moving_window(
            successes, MAX_SUCCESSES_COUNTED, expiry
        )
        allowed = limit.amount + succeeded
        if await self._windows.acquire_entry(attempts, allowed, expiry):
            return 0
        oldest, _ = await self._windows.get_moving_window(attempts, allowed, expiry)
        return max(1, math.ceil(oldest + expiry - time.time()))

    def spend_lease(self, version: int, principal: str) -> bool:
        """Count one call from the principal's lease, if it holds a unit; no store operation.

        The request path calls this first and awaits ``check_call`` only when it says no.
        """
        lease = self._leases.get((version, principal))
        if lease is None or lease.units == 0 or time.monotonic() >= lease.expires:
            return False
        lease.units -= 1
        return True

    async def check_call(self, version: int, principal: str) -> None:
        """Count one call; raise ``LimitExceededError``. A dead store lets it through."""
        if self.spend_lease(version, principal):
            return
        if self._down_until and not self._store_answers():
            return
        limit = self.per_version.get(version, self.authenticated)
        ids = ("call", f"v{version}", principal)
        size = limit.amount // LEASE_SHARE
        try:
            # A lease while the budget holds one; near the limit, one unit at a time.
            if size > 1 and await self._calls.hit(limit, *ids, cost=size):
                self._grant_lease(version, principal, size - 1, limit)
                counted = True
            else:
                counted = await self._calls.hit(limit, *ids)
            if counted:
                if self._down_until:
                    self._store_recovered()
                return
            retry_after = await self._retry_after(self._calls, limit, ids)
        except STORE_ERRORS as error:
            self._store_failed(error)
            return
        raise LimitExceededError(
            f"Rate limit of {limit} for {version_name(version)} exceeded; "
            f"retry in {retry_after} seconds",
            retry_after,
        )

    def _grant_lease(self, version: int, principal: str, units: int, limit: RateLimitItem) -> None:
        now = time.monotonic()
        if len(self._leases) >= self._prune_leases_at:
            self._leases = {k: v for k, v in self._leases.items() if v.units and v.expires > now}
            self._prune_leases_at = max(PRUNE_LEASES_ABOVE, 2 * len(self._leases))
        seconds = min(MAX_LEASE_SECONDS, limit.get_expiry() / LEASE_SHARE)
        self._leases[version, principal] = _Lease(units, now + seconds)

    async def ping(self) -> None:
        """Raise ``StoreUnavailableError`` unless the store answers (a memory store always does)."""
        if not await self.storage.check():
            raise StoreUnavailableError(self._retry_in())

    async def close(self) -> None:
        await close_storage(self.storage)

    async def _retry_after(
        self, strategy: Strategy, limit: RateLimitItem, ids: Sequence[str]
    ) -> int:
        stats = await strategy.get_window_stats(limit, *ids)
        return max(1, math.ceil(stats.reset_time - time.time()))

    def _store_answers(self) -> bool:
        return time.monotonic() >= self._down_until

    def _retry_in(self) -> int:
        return max(1, math.ceil(self._down_until - time.monotonic()))

    def _store_failed(self, error: Exception) -> None:
        now = time.monotonic()
        self._down_until = now + STORE_RETRY_SECONDS
        if now >= self._next_warning:
            self._next_warning = now + WARN_EVERY_SECONDS
            cause = error.storage_error if isinstance(error, StorageError) else error
            log.warning(
                "rate-limit store unreachable (%s: %s): logins answer 503 and authenticated "
                "calls go unthrottled until it answers; retrying every %g s",
                type(cause).__name__,
                cause,
                STORE_RETRY_SECONDS,
            )

    def _store_recovered(self) -> None:
        if self._down_until:
            self._down_until = 0.0
            log.info("rate-limit store answers again: limits apply")


def parse_limit(text: str, key: str) -> RateLimitItem:
    """One limit such as ``"5/minute"`` or ``"100 per hour"``; ``SettingsError`` names ``key``."""
    try:
        limits = parse_many(text)
    except ValueError:
        raise SettingsError(
            f"{key}: cannot parse {text!r} (write it like '5/minute' or '100 per hour')"
        ) from None
    if len(limits) != 1:
        raise SettingsError(f"{key}: give one limit, such as '5/minute', not {text!r}")
    if limits[0].amount < 1:
        raise SettingsError(f"{key}: {text!r} allows no request at all; use at least 1")
    return limits[0]


def open_storage(url: str) -> Storage:
    """The async storage for ``memory://`` or ``redis[s]://host:port/db``."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in SCHEMES:
        raise SettingsError(
            f"ratelimit.storage_url: unsupported {url!r}; use memory:// or redis://host:port/db"
        )
    options: dict[str, Any] = {"wrap_exceptions": True}
    if scheme != "memory":
        options |= {
            "key_prefix": KEY_PREFIX,
            "connect_timeout": STORE_TIMEOUT_SECONDS,
            "stream_timeout": STORE_TIMEOUT_SECONDS,
        }
    try:
        storage = storage_from_string(f"{SCHEMES[scheme]}://{rest}", **options)
    except (ConfigurationError, ValueError) as error:
        raise SettingsError(f"ratelimit.storage_url: {error}") from None
    assert isinstance(storage, Storage)
    return storage


async def close_storage(storage: Storage) -> None:
    """Close a Redis storage's pooled connections, so none outlive the event loop."""
    # limits has no close(); its Redis storage keeps the coredis client on ``bridge``.
    client = getattr(getattr(storage, "bridge", None), "storage", None)
    pool = getattr(client, "connection_pool", None)
    if pool is not None:
        pool.disconnect()
        # The transports finish closing on the loop's next turn; let it come before the loop ends.
        await anyio.lowlevel.checkpoint()


def account_key(username: str) -> str:
    # Case and Unicode variants of one name share a budget, whatever the user store compares.
    name = unicodedata.normalize("NFKC", username).strip().casefold()
    if len(name) > MAX_ACCOUNT_KEY:
        return "sha256:" + hashlib.sha256(name.encode()).hexdigest()
    return name


def address_key(host: str | None) -> str:
    # One IPv6 host usually owns a whole /64: count the network, or each address is a new budget.
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return host or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
