"""Flickr gone wrong on request: raw overrides of fields in the answers the REST endpoint
serves, for tests that play a hostile or broken Flickr (an id of "../..", a format with a
path in it, a number of 1e400).

A rule {"method": "flickr.people.getPhotos", "match": {"id": "123"}, "set": {"id": "../x"}}
changes every object in that method's answers (any method without "method") whose fields
equal "match" (compared as text: Flickr sends numbers either way), after the account has
been rendered; the account itself is unchanged, so the CDN still serves the real bytes.
"""

from __future__ import annotations

import copy


def check(rule) -> dict:
    """A rule as given to POST /__sandbox__/hostile, or ValueError saying what is wrong."""
    if not isinstance(rule, dict) or not isinstance(rule.get("match"), dict) \
            or not isinstance(rule.get("set"), dict) or not rule["match"]:
        raise ValueError('a rule is {"method": NAME (optional), "match": {FIELD: VALUE, ...}, '
                         '"set": {FIELD: VALUE, ...}}')
    if "method" in rule and not isinstance(rule["method"], str):
        raise ValueError("a rule's method is a method name")
    return {"method": rule.get("method"), "match": rule["match"], "set": rule["set"]}


def apply(rules: list[dict], method: str, payload):
    """The payload with every matching rule applied (a copy; the original is untouched)."""
    wanted = [r for r in rules if r["method"] in (None, method)]
    if not wanted or payload is None:
        return payload
    payload = copy.deepcopy(payload)
    _walk(payload, wanted)
    return payload


def _walk(node, rules: list[dict]) -> None:
    if isinstance(node, list):
        for child in node:
            _walk(child, rules)
        return
    if not isinstance(node, dict):
        return
    for child in list(node.values()):
        _walk(child, rules)
    for rule in rules:
        if all(key in node and str(node[key]) == str(value) for key, value in rule["match"].items()):
            node.update(rule["set"])
