"""`changes.delete.reason()` over all its inputs: an item may go only when it is proven (the
verified bytes are the catalog's bytes, and a fact Flickr stated agreed), its deep metadata is
saved (or --allow-shallow), it is present in the fresh listing and provably unchanged there,
and it was not deleted already. Every other answer is a reason the user is shown."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from flickr_exodus.catalog import STATES
from flickr_exodus.changes.delete import REASON_TEXT, reason
from flickr_exodus.flickr.listing import Seen

# Every field is either its value in a row that may go, or anything of its kind: the
# examples sit around the one answer that deletes, where a wrong rule would show.
PROVEN = {"state": "downloaded", "sha256": "a" * 64, "verified_sha256": "a" * 64, "size": 10,
          "verified_size": 10, "verified_facts": '["pixel_size"]', "deep_done": 1,
          "last_update": 1700000000, "original_secret": "5ecret"}
HASHES = [None, "", "a" * 64, "b" * 64]
SIZES = [None, 0, 10, 11]
STAMPS = [None, 0, 1700000000, 1700000001]
SECRETS = [None, "", "5ecret", "0ther"]
KINDS = {
    "state": sorted(set(STATES) | {"deleted_remote", "remote_gone"}), "sha256": HASHES,
    "verified_sha256": HASHES, "size": SIZES, "verified_size": SIZES,
    "verified_facts": [None, "[]", "null", json.dumps(["pixel_size"]), json.dumps(["pixel_size", "duration"])],
    "deep_done": [None, 0, 1], "last_update": STAMPS, "original_secret": SECRETS,
}


def near(value, kind: list):
    return st.just(value) | st.sampled_from(kind)


rows = st.fixed_dictionaries({key: near(PROVEN[key], kind) for key, kind in KINDS.items()})
seens = st.none() | st.builds(Seen, last_update=near(PROVEN["last_update"], STAMPS),
                              original_secret=near(PROVEN["original_secret"], SECRETS),
                              is_public=st.sampled_from([None, 0, 1]), is_friend=st.just(0),
                              is_family=st.just(0), license=st.sampled_from([None, 0, 4]))


def promised(row: dict, seen: Seen | None, allow_shallow: bool) -> bool:
    """What delete-remote promises, stated on its own: proven, present, unchanged, not gone."""
    proven = (bool(row["verified_sha256"]) and row["verified_sha256"] == row["sha256"]
              and row["verified_size"] == row["size"] and bool(json.loads(row["verified_facts"] or "[]")))
    unchanged = (seen is not None and seen.last_update is not None and seen.last_update == row["last_update"]
                 and not (seen.original_secret and row["original_secret"]
                          and seen.original_secret != row["original_secret"]))
    return (row["state"] == "downloaded" and proven and unchanged
            and (bool(row["deep_done"]) or allow_shallow))


@settings(max_examples=1500, deadline=None)
@given(row=rows, seen=seens, complete=st.booleans(), allow_shallow=st.booleans())
def test_an_item_is_eligible_exactly_when_it_is_proven_present_and_unchanged(row, seen, complete, allow_shallow):
    why = reason(row, seen, complete, allow_shallow)
    assert (why == "eligible") == promised(row, seen, allow_shallow), (why, row, seen)
    assert why in REASON_TEXT, f"a reason the user is never told in words: {why!r}"


@settings(max_examples=400, deadline=None)
@given(row=rows, seen=seens, complete=st.booleans())
def test_allow_shallow_only_ever_waives_the_deep_metadata(row, seen, complete):
    strict, lenient = reason(row, seen, complete, False), reason(row, seen, complete, True)
    assert strict == lenient or (strict == "shallow" and lenient != "shallow"), (strict, lenient)


@settings(max_examples=400, deadline=None)
@given(row=rows, complete=st.booleans(), allow_shallow=st.booleans())
def test_an_item_the_listing_did_not_show_stays_and_says_why(row, complete, allow_shallow):
    why = reason(row, None, complete, allow_shallow)
    assert why != "eligible"
    # "not on Flickr" is a claim only a complete listing can make.
    assert why != "not_on_flickr" or complete


@given(seen=seens, complete=st.booleans(), allow_shallow=st.booleans())
def test_an_item_deleted_already_is_never_eligible(seen, complete, allow_shallow):
    row = {**PROVEN, "state": "deleted_remote"}
    assert reason(row, seen, complete, allow_shallow) == "already_deleted"
