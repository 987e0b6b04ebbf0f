"""Distances for travel costs: haversine, and postcode -> (lat, lon) from the stores we know.

There is no postcode gazetteer in the warehouse, so a shopper's postcode is placed at the centroid
of the catalog stores (catalog.dim_store) that share it; if none does, at the centroid of the
stores sharing the longest prefix of at least ``MIN_PREFIX`` characters (Australian postcodes are
allocated by area, so ``30xx`` is Melbourne, ``20xx`` Sydney). A postcode matching nothing is an
error, not a guess. This is approximate by design: swap in a real centroid table when one lands.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from warehouse.domain.regions import normalise_postcode

EARTH_RADIUS_KM = 6371.0088
MIN_PREFIX = 2


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class PostcodeCentroids:
    """Centroids of known postcodes, built from (postcode, lat, lon) of stores."""

    points: dict[str, tuple[float, float]]

    @classmethod
    def from_stores(
        cls, stores: Iterable[tuple[str | None, float | None, float | None]]
    ) -> PostcodeCentroids:
        sums: dict[str, list[float]] = {}
        for postcode, lat, lon in stores:
            if not postcode or lat is None or lon is None:
                continue
            acc = sums.setdefault(normalise_postcode(postcode), [0.0, 0.0, 0])
            acc[0] += float(lat)
            acc[1] += float(lon)
            acc[2] += 1
        return cls({code: (a / n, b / n) for code, (a, b, n) in sums.items()})

    def locate(self, postcode: str) -> tuple[float, float] | None:
        """The postcode's centroid, or that of the known postcodes sharing its longest prefix."""
        code = normalise_postcode(postcode)
        if code in self.points:
            return self.points[code]
        for length in range(len(code) - 1, MIN_PREFIX - 1, -1):
            near = [point for known, point in self.points.items() if known[:length] == code[:length]]
            if near:
                return (sum(p[0] for p in near) / len(near), sum(p[1] for p in near) / len(near))
        return None
