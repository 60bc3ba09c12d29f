"""The store remembers each OpenRosa instance it received, once, on every backend."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from data.store import ObservationStore
from domain.openrosa import Instance


def test_an_instance_is_remembered_with_the_revision_it_produced(store: ObservationStore) -> None:
    first = Instance(uuid.uuid4(), uuid.uuid4(), 1, "a" * 64, "olga")
    assert store.get_instance(first.instance_id) is None
    kept = store.add_instance(first)
    assert (kept.instance_id, kept.observation_id, kept.revision) == (
        first.instance_id, first.observation_id, 1,
    )  # fmt: skip
    assert kept.xml_sha256 == "a" * 64 and kept.deprecated_id is None
    assert kept.received_at is not None
    edit = Instance(uuid.uuid4(), first.observation_id, 2, "b" * 64, "olga", first.instance_id)
    store.add_instance(edit)
    assert store.get_instance(edit.instance_id) == store.add_instance(edit)
    got = store.get_instance(edit.instance_id)
    assert got is not None and got.deprecated_id == first.instance_id and got.revision == 2


def test_a_second_instance_under_the_same_id_keeps_the_first(store: ObservationStore) -> None:
    instance_id = uuid.uuid4()
    rows = [Instance(instance_id, uuid.uuid4(), 1, f"{i:064d}", "olga") for i in range(8)]
    with ThreadPoolExecutor(4) as pool:
        kept = list(pool.map(store.add_instance, rows))
    assert len({k.xml_sha256 for k in kept}) == 1
    assert store.get_instance(instance_id) == kept[0]
