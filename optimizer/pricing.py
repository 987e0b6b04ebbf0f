"""What an item costs at one store given the packs on its shelf (no I/O).

A shopper asks for ``quantity`` units; a store may sell the product in packs of several units and
may offer more than one pack size. The cost is the cheapest combination of whole packs that covers
the quantity (need 3, sold in packs of 2 -> 2 packs; with singles on the shelf too, maybe one pack
of 2 plus one single). A small unbounded covering knapsack, solved by dynamic programming over
units: quantities are shopping-list sized, so ``quantity + largest pack`` states stay tiny.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class PackOffer:
    """One shelf offer: ``price`` for a pack of ``pack_size`` units."""

    price: float
    pack_size: int = 1


@dataclass(frozen=True)
class PackChoice:
    """The cheapest way to buy at least the requested quantity at one store."""

    cost: float
    packs: tuple[tuple[int, int, float], ...]  # (pack_size, count, pack_price)

    @property
    def units(self) -> int:
        return sum(size * count for size, count, _ in self.packs)


def cheapest_packs(quantity: int, offers: Sequence[PackOffer]) -> PackChoice | None:
    """Cheapest whole packs covering ``quantity`` units; None without offers."""
    if quantity <= 0:
        raise ValueError(f"quantity must be a positive integer, got {quantity!r}")
    if len(offers) == 1 and offers[0].pack_size >= 1:  # the common case: one offer on the shelf
        offer = offers[0]
        count = -(-quantity // offer.pack_size)
        return PackChoice(cost=count * offer.price, packs=((offer.pack_size, count, offer.price),))
    # Per pack size only the cheapest price matters.
    best: dict[int, float] = {}
    for offer in offers:
        if offer.pack_size <= 0:
            raise ValueError(f"pack size must be a positive integer, got {offer.pack_size!r}")
        best[offer.pack_size] = min(offer.price, best.get(offer.pack_size, math.inf))
    if not best:
        return None
    if len(best) == 1:  # the common case: one pack size on the shelf
        ((size, price),) = best.items()
        count = -(-quantity // size)
        return PackChoice(cost=count * price, packs=((size, count, price),))
    # cost[u] = cheapest way to hold at least u units (u capped at quantity).
    cost = [0.0] + [math.inf] * quantity
    last: list[int | None] = [None] * (quantity + 1)
    for units in range(1, quantity + 1):
        for size, price in best.items():
            candidate = cost[max(0, units - size)] + price
            if candidate < cost[units] - 1e-12:
                cost[units], last[units] = candidate, size
    counts: dict[int, int] = {}
    units = quantity
    while units > 0:
        size = last[units]
        counts[size] = counts.get(size, 0) + 1
        units = max(0, units - size)
    packs = tuple(sorted((size, count, best[size]) for size, count in counts.items()))
    return PackChoice(cost=cost[quantity], packs=packs)
