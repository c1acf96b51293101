"""A consistent-hash ring with virtual nodes: which Rasa server holds a conversation.

Each server is placed on the ring at VNODES points (hashes of "<name>#<i>"); a key
belongs to the first point clockwise from its own hash. Adding a server moves only
the keys that now land on its points (about 1/N of them), all to it; removing one
moves only its own keys, to the servers that follow it. Pure: no I/O.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterable

VNODES = 160


def point(text: str) -> int:
    """A stable 64-bit position on the ring (the same in every process and release)."""
    digest = hashlib.md5(text.encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big")


class HashRing:
    def __init__(self, nodes: Iterable[str], vnodes: int = VNODES) -> None:
        self.nodes = tuple(dict.fromkeys(nodes))
        if not self.nodes:
            raise ValueError("a hash ring needs at least one node")
        placed = sorted((point(f"{node}#{i}"), node) for node in self.nodes for i in range(vnodes))
        self._points = [p for p, _ in placed]
        self._owners = [n for _, n in placed]

    def node_for(self, key: str) -> str:
        """The node that owns `key`."""
        return self.preference(key)[0]

    def preference(self, key: str) -> list[str]:
        """Every node once, in the order met walking clockwise from `key`: the owner
        first, then where the key goes when the nodes before are down."""
        start = bisect.bisect(self._points, point(key))
        order: dict[str, None] = {}
        for i in range(len(self._owners)):
            order.setdefault(self._owners[(start + i) % len(self._owners)], None)
            if len(order) == len(self.nodes):
                break
        return list(order)
