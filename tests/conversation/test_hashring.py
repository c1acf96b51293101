"""conversation.hashring: stable placement, minimal movement, an even spread."""

from __future__ import annotations

from collections import Counter

import pytest

from conversation.hashring import HashRing

SERVERS = [f"http://rasa-{n}.rasa:5005" for n in range(4)]
KEYS = [f"pseudonym-{n:05d}" for n in range(20_000)]


def owners(ring: HashRing) -> dict[str, str]:
    return {key: ring.node_for(key) for key in KEYS}


def test_it_places_every_key_the_same_way_in_every_ring_built_from_the_same_servers() -> None:
    first, second = HashRing(SERVERS), HashRing(list(reversed(SERVERS)))
    assert owners(first) == owners(second)
    assert HashRing(["a", "b"]).node_for("abc") == HashRing(["a", "b"]).node_for("abc")


def test_it_moves_only_the_new_servers_share_to_it_when_one_is_added() -> None:
    before, after = owners(HashRing(SERVERS[:3])), owners(HashRing(SERVERS))
    moved = [key for key in KEYS if before[key] != after[key]]
    assert {after[key] for key in moved} == {SERVERS[3]}
    assert 0.18 < len(moved) / len(KEYS) < 0.32  # about 1/4


def test_it_moves_only_the_removed_servers_keys_when_one_goes() -> None:
    full = HashRing(SERVERS)
    before, after = owners(full), owners(HashRing(SERVERS[:3]))
    for key in KEYS:
        if before[key] != SERVERS[3]:
            assert after[key] == before[key]
        else:  # to the next server on the ring, where failover sends it too
            assert after[key] == full.preference(key)[1]


def test_it_spreads_conversations_evenly() -> None:
    counts = Counter(owners(HashRing(SERVERS)).values())
    mean = len(KEYS) / len(SERVERS)
    assert set(counts) == set(SERVERS)
    assert all(abs(c - mean) / mean < 0.15 for c in counts.values()), counts


def test_it_spreads_the_failover_of_a_down_server_over_the_others() -> None:
    ring = HashRing(SERVERS)
    seconds = Counter(ring.preference(k)[1] for k in KEYS if ring.node_for(k) == SERVERS[0])
    assert set(seconds) == set(SERVERS[1:])
    assert min(seconds.values()) > 0.2 * sum(seconds.values())


def test_it_lists_every_server_once_owner_first() -> None:
    ring = HashRing(SERVERS)
    for key in KEYS[:200]:
        order = ring.preference(key)
        assert sorted(order) == sorted(SERVERS)
        assert order[0] == ring.node_for(key)


def test_it_gives_a_single_server_every_conversation() -> None:
    assert HashRing(["http://127.0.0.1:5005"]).preference("x") == ["http://127.0.0.1:5005"]


def test_it_refuses_an_empty_ring() -> None:
    with pytest.raises(ValueError, match="at least one"):
        HashRing([])
