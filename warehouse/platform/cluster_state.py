"""Where the embedded cluster says it runs (cluster.json): read by settings to build URLs, written by
the cluster. Its own module so that config and cluster do not import each other."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from warehouse.platform.errors import ConfigurationError

if TYPE_CHECKING:  # type only: importing config here would close a cycle
    from warehouse.platform.config import Settings


@dataclass(frozen=True)
class ClusterState:
    port: int
    data_dir: str
    socket_dir: str
    bin_dir: str
    log_file: str


def state_file(settings: Settings) -> Path:
    return settings.cluster_dir / "cluster.json"


def read_cluster_state(settings: Settings) -> ClusterState:
    try:
        return ClusterState(**json.loads(state_file(settings).read_text()))
    except FileNotFoundError as exc:
        raise ConfigurationError(
            f"the embedded cluster under {settings.cluster_dir} has not been created: run `smartcart db start`"
        ) from exc
