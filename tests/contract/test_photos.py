"""The photo part of the store contract, on both backends: chunks, SHA-256, re-sends."""

from __future__ import annotations

import pytest

from data.photos import Receipt, make_photo, receive_photo
from data.store import ObservationStore
from domain.errors import Conflict, NotFound
from domain.photos import UploadOffset
from tests.factories import make_observation
from tests.photo_files import image_bytes

LIMIT = 1 << 20


def _observation(store: ObservationStore) -> object:
    obs = make_observation(1)
    store.add_observations([obs], actor="olga")
    return obs.id


def test_a_photo_in_chunks_is_stored_byte_identical_with_a_thumbnail(
    store: ObservationStore,
) -> None:
    oid = _observation(store)
    data = image_bytes("PNG", seed=1, side=120)
    size, step = len(data), len(data) // 3 + 1
    receipts = []
    for start in range(0, size, step):
        end = min(size, start + step) - 1
        receipts.append(
            receive_photo(
                store,
                oid,
                "a.png",
                data[start : end + 1],
                f"bytes {start}-{end}/{size}",
                actor="olga",
                max_bytes=LIMIT,
            )  # fmt: skip
        )
        if end + 1 < size:
            assert store.photo_upload_state(oid, "a.png") == (end + 1, size)
    assert [r.status for r in receipts] == ["partial", "partial", "created"]
    assert store.photo_bytes(oid, "a.png") == data
    assert store.photo_bytes(oid, "a.png", thumbnail=True).startswith(b"\xff\xd8\xff")
    [info] = store.list_photos(oid)
    assert (info.name, info.media_type, info.size, info.width) == ("a.png", "image/png", size, 120)
    assert store.photo_upload_state(oid, "a.png") is None


def test_same_bytes_again_are_unchanged_other_bytes_under_the_name_conflict(
    store: ObservationStore,
) -> None:
    oid = _observation(store)
    data = image_bytes("JPEG", seed=2)
    first = receive_photo(store, oid, "p.jpg", data, None, actor="olga", max_bytes=LIMIT)
    again = receive_photo(store, oid, "p.jpg", data, None, actor="olga", max_bytes=LIMIT)
    assert (first.status, again.status) == ("created", "unchanged")
    with pytest.raises(Conflict):
        receive_photo(store, oid, "p.jpg", image_bytes("JPEG", seed=3), None,
                      actor="olga", max_bytes=LIMIT)  # fmt: skip
    with pytest.raises(Conflict):  # straight to the store, as a race would
        store.add_photo(make_photo(oid, "p.jpg", image_bytes("JPEG", seed=4), "olga"))  # type: ignore[arg-type]
    assert len(store.list_photos(oid)) == 1 and store.photo_bytes(oid, "p.jpg") == data


def test_a_chunk_past_what_is_held_says_where_to_resume_and_a_repeat_is_harmless(
    store: ObservationStore,
) -> None:
    oid = _observation(store)
    data = image_bytes("PNG", seed=5, side=80)
    size, half = len(data), len(data) // 2
    head = f"bytes 0-{half - 1}/{size}"
    receive_photo(store, oid, "r.png", data[:half], head, actor="olga", max_bytes=LIMIT)
    receive_photo(
        store, oid, "r.png", data[:half], head, actor="olga", max_bytes=LIMIT
    )  # lost answer
    with pytest.raises(UploadOffset) as gap:
        receive_photo(store, oid, "r.png", data[half + 1 :], f"bytes {half + 1}-{size - 1}/{size}",
                      actor="olga", max_bytes=LIMIT)  # fmt: skip
    assert gap.value.received == half
    done = receive_photo(store, oid, "r.png", data[half:], f"bytes {half}-{size - 1}/{size}",
                         actor="olga", max_bytes=LIMIT)  # fmt: skip
    assert done.status == "created" and store.photo_bytes(oid, "r.png") == data


def test_a_chunk_of_other_bytes_is_refused_and_what_is_held_is_kept(
    store: ObservationStore,
) -> None:
    """Another file's chunk where this upload's bytes are held: 409, nothing written; a
    late re-send of an early chunk does not cut off what was held after it."""
    oid = _observation(store)
    data = image_bytes("PNG", seed=6, side=80)
    other = bytes(b ^ 0xFF for b in data)  # the same size: the same upload's total
    size, half = len(data), len(data) // 2

    def send(body: bytes, start: int) -> Receipt:
        byte_range = f"bytes {start}-{start + len(body) - 1}/{size}"
        return receive_photo(store, oid, "s.png", body, byte_range, actor="olga", max_bytes=LIMIT)

    assert send(data[:half], 0).received == half
    with pytest.raises(Conflict) as refused:
        send(other[half // 2 : half + 10], half // 2)
    assert refused.value.field == "Content-Range"
    assert f"bytes {half // 2}-{half - 1}" in str(refused.value.message)
    assert send(data[:10], 0).received == half  # a re-send from an earlier try
    done = send(data[half:], half)
    assert done.status == "created" and store.photo_bytes(oid, "s.png") == data


def test_missing_photos_are_not_found(store: ObservationStore) -> None:
    oid = _observation(store)
    assert store.list_photos(oid) == [] and store.get_photo(oid, "x.jpg") is None
    with pytest.raises(NotFound):
        store.photo_bytes(oid, "x.jpg")  # type: ignore[arg-type]
