"""The real-time contract ledger: obtained at start-up, again when what it is built from changes.

The state (every party's running totals, the contract flow network, the approved rules'
recent hits) comes from the store version's snapshot, advanced or built when there is none
usable (:mod:`service.core.contracts.stored`); the entity directory and the market index
from the store's tables. A long-lived service (``techcredit up``) outlives many store versions
(the daily run ingests each morning) and rule approvals, so it polls a fingerprint of both
every ``polling.state_seconds``; a change obtains a new state in a worker thread while the old
one keeps answering, then swaps the three in on the event loop. A failed build keeps the old
state serving (``/readyz`` says so) and is tried again at the next poll. Contracts registered
by checks since the last build and not yet in the store are not carried over: the register's
next export brings them.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable
from dataclasses import dataclass

from features.settings import Settings
from models.rules.contract import rule_days
from models.rules.contract_tier import TierBands
from models.rules.kinds import CONTRACT
from models.rules.reviews import active_rules, active_rules_sha
from service.core.context import ServiceContext
from service.core.contracts.checker import ContractChecker
from service.core.contracts.directory import EntityInfo, directory
from service.core.contracts.stored import Obtained, Pinned, obtain
from service.core.db.types import utcnow
from service.core.market_index import MarketIndex, market_index_of

log = logging.getLogger("techcredit.service")
Fingerprint = Callable[[], str]  # changes whenever the tables it stands for change


def _first_line(e: Exception) -> str:
    return str(e).splitlines()[0] if str(e) else repr(e)


@dataclass(frozen=True)
class Built:
    """What one build makes, swapped in together."""

    directory: dict[tuple[str, str], EntityInfo]
    market_index: MarketIndex
    checker: ContractChecker
    how: str  # how the state was obtained (loaded, advanced, rebuilt and why)


def checker_of(settings: Settings, pinned: Pinned) -> tuple[ContractChecker, Obtained]:
    """The contract ledger of ``pinned``'s version under the rules in force, as the service
    and the command line both check against it, and how its state was obtained."""
    ruleset = active_rules(settings, CONTRACT)
    days, keep = rule_days(ruleset), settings.store.ledger_days
    got = obtain(pinned, days, keep)
    checker = ContractChecker(got.snapshot, ruleset, TierBands.from_settings(settings),
                              restore=lambda: obtain(pinned, days, keep).snapshot)
    return checker, got


def build(ctx: ServiceContext, pin: Callable[[], Pinned]) -> Built | None:
    """A new state from the store's current version and the rules in force (blocking: run
    in a worker thread), or None when it failed: the state in service, if any, keeps
    serving, and the problem is kept for ``/readyz``."""
    try:
        pinned = pin()
        data = pinned.tables()
        checker, got = checker_of(ctx.settings, pinned)
        log.info("contract ledger: %s in %.1f s", got.how, got.seconds)
        return Built(directory(data), market_index_of(data["contracts"]), checker, got.how)
    except Exception as e:  # the service goes on; /readyz says why
        if ctx.checker is None:
            ctx.state_problem = f"contract ledger failed: {_first_line(e)}"
        else:
            ctx.state_stale = (f"rebuild failed, serving the state built "
                               f"{ctx.state_built_at:%Y-%m-%d %H:%M:%S} UTC: {_first_line(e)}")
        log.exception("building the contract ledger failed")
        return None


def swap_in(ctx: ServiceContext, built: Built) -> None:
    """Serve ``built``. Called on the event loop, where requests read the context, so none
    sees the new directory beside the old checker."""
    first = ctx.checker is None
    ctx.directory, ctx.market_index = built.directory, built.market_index
    ctx.checker = built.checker
    ctx.state_problem, ctx.state_stale, ctx.state_built_at = None, None, utcnow()
    ctx.state_source = built.how
    # The state is millions of long-lived objects: moving them out of the collector's
    # generations keeps full collections (tail latency) from walking them on every request.
    # Only the first build collects first: on a rebuild a full collection would walk both
    # states while requests wait. The replaced state is freed by reference counting; a
    # reference cycle in it, if any, stays until the process restarts.
    if first:
        gc.collect()
    gc.freeze()


def fingerprint_of(ctx: ServiceContext, tables: Fingerprint) -> str:
    return f"{tables()} rules:{active_rules_sha(ctx.settings, CONTRACT)}"


async def keep_state_fresh(ctx: ServiceContext, pin: Callable[[], Pinned],
                           fingerprint: Fingerprint | None) -> None:
    """Build the state, then rebuild it whenever the fingerprint changes (never without
    one, or with ``polling.state_seconds`` 0). The score answers are rendered again after
    each build: they show register statuses from the directory."""
    every = ctx.settings.polling.state_seconds

    async def seen() -> str | None:
        if fingerprint is None or every <= 0:
            return None
        try:
            return await asyncio.to_thread(fingerprint_of, ctx, fingerprint)
        except Exception:  # unreadable now: try again at the next poll
            log.exception("reading the contract ledger's fingerprint failed")
            return None

    async def build_and_swap() -> bool:
        built = await asyncio.to_thread(build, ctx, pin)
        if built is None:
            return False
        swap_in(ctx, built)
        await ctx.scores.rerender()
        return True

    now = await seen()  # before the build, so a change during it is not missed
    last = now if await build_and_swap() else None
    if fingerprint is None or every <= 0:
        return
    while True:  # a failed build is tried again at the next poll
        await asyncio.sleep(every)
        now = await seen()
        if now is None or now == last:
            continue
        log.info("register data now %s (built from %s): rebuilding the contract ledger",
                 now, last)
        if await build_and_swap():
            last = now
