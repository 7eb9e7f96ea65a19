"""The sandbox's link behaves like one (issue 18): each connection held to
--connection-bandwidth, all of them together to --bandwidth, each answer's first byte a
round trip away (two on a new connection), and no cap hands an idle client a burst of
more than 64 KiB.

The sandbox runs as `exodus sandbox` in its own process, with the flags a user would give,
and the client reads over real sockets on 127.0.0.1 (http.client, one connection each).

Timing on a shared machine: every rate here is taken from the moment the request is sent,
less the round trips the sandbox is known to wait, so a slow client or a busy machine can
only make the measured rate lower, never higher. The upper bounds ("no faster than the
cap", "no earlier than the latency") are therefore asserted strictly; a lower bound only
loosely (0.7 of the cap), since being descheduled for a few hundred ms is a busy machine,
not a bug: 0.7 still catches a cap applied twice or a rate wrongly divided.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import requests
from requests_oauthlib import OAuth1

EXODUS = [sys.executable, "-m", "flickr_exodus"]
LATENCY = 0.1  # s, one round trip
TOTAL = 3_000_000  # bytes/s, --bandwidth
PER_CONNECTION = 1_000_000  # bytes/s, --connection-bandwidth
SIZE = 1_500_000  # bytes of every photo original: 1.5 s at one connection's cap
CONNECTIONS = 4  # together they could take 4 MB/s; the total cap holds them to 3
BURST = 64 * 1024
SLACK = 0.15  # the "within 15%"


@dataclass
class Fetched:
    sent: float  # monotonic time the request went out
    first_byte: float  # ... its status line and headers were in
    done: float  # ... its last body byte was in
    body: int  # body bytes


def get(conn: http.client.HTTPConnection, path: str, method: str = "GET") -> Fetched:
    sent = time.monotonic()
    conn.request(method, path)
    response = conn.getresponse()
    first_byte = time.monotonic()
    body = 0
    while chunk := response.read(65536):
        body += len(chunk)
    assert response.status == 200, response.status
    return Fetched(sent, first_byte, time.monotonic(), body)


@pytest.fixture(scope="module")
def link():
    """`exodus sandbox` with every knob of the link, and the paths of its photo originals."""
    proc = subprocess.Popen(
        [*EXODUS, "sandbox", "--port", "0", "--photos", str(CONNECTIONS + 2), "--videos", "0", "--albums", "0",
         "--media-size", str(SIZE), "--latency-ms", str(LATENCY * 1000), "--bandwidth", str(TOTAL),
         "--connection-bandwidth", str(PER_CONNECTION)], stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(proc.stdout.readline())
        auth = OAuth1(info["api_key"], info["api_secret"], info["oauth_token"], info["oauth_token_secret"])
        listed = requests.post(f"{info['api_base']}/services/rest/", auth=auth, timeout=30, data={
            "method": "flickr.people.getPhotos", "user_id": "me", "extras": "url_o", "format": "json",
            "nojsoncallback": "1"}).json()["photos"]["photo"]
        paths = [urlsplit(p["url_o"]).path for p in listed]
        assert len(paths) == CONNECTIONS + 2
        yield info, paths
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def connect(info: dict) -> http.client.HTTPConnection:
    parts = urlsplit(info["api_base"])
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)


def test_one_connection_is_held_to_the_connection_cap(link):
    info, paths = link
    conn = connect(info)
    try:
        got = get(conn, paths[0])
    finally:
        conn.close()
    assert got.body == SIZE
    # A new connection: two round trips before anything, then the body at the cap.
    rate = got.body / (got.done - got.sent - 2 * LATENCY)
    assert rate <= PER_CONNECTION * (1 + SLACK), rate
    assert rate >= PER_CONNECTION * 0.7, rate  # loose: see the module's docstring
    # Well under the total cap: it is the connection's own cap that held it.
    assert rate < TOTAL / 2


def test_connections_together_are_held_to_the_total_cap(link):
    info, paths = link
    results: list[Fetched] = []

    def one(path: str) -> None:
        conn = connect(info)
        try:
            results.append(get(conn, path))
        finally:
            conn.close()

    threads = [threading.Thread(target=one, args=(p,)) for p in paths[1:CONNECTIONS + 1]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == CONNECTIONS and all(r.body == SIZE for r in results)
    total = sum(r.body for r in results)
    rate = total / (max(r.done for r in results) - min(r.sent for r in results) - 2 * LATENCY)
    assert rate <= TOTAL * (1 + SLACK), rate
    assert rate >= TOTAL * 0.7, rate  # loose: see the module's docstring
    # Concurrency pays: together they went well past what one connection may.
    assert rate > PER_CONNECTION * (1 + SLACK)


def test_first_byte_of_each_answer_is_a_round_trip_away(link):
    info, paths = link
    echo = f"/services/rest/?method=flickr.test.echo&api_key={info['api_key']}&format=json&nojsoncallback=1"
    conn = connect(info)
    try:
        # The first answer on a connection pays the handshake's round trip too.
        waits = [(path, get(conn, path, method)) for path, method in
                 ((echo, "GET"), (paths[-1], "HEAD"), (echo, "GET"), (paths[-1], "GET"), (echo, "GET"))]
    finally:
        conn.close()
    first = waits[0][1]
    assert first.first_byte - first.sent >= 2 * LATENCY, first
    for path, got in waits[1:]:
        assert got.first_byte - got.sent >= LATENCY, (path, got)
    # The API and the CDN both: a fresh connection straight to a photo pays twice as well.
    conn = connect(info)
    try:
        photo = get(conn, paths[-1], "HEAD")
    finally:
        conn.close()
    assert photo.first_byte - photo.sent >= 2 * LATENCY


def test_the_total_cap_hands_an_idle_client_no_more_than_64_kib(make_sandbox):
    # One connection at a time with idle spells between files, as a sequential client
    # waits on its disk or on a round trip: each file must still take (size - 64 KiB) / cap.
    # (A tenth of a second of burst, as before, would hand back 200 KB of each wait.)
    rate, size = 2_000_000, 300_000
    sb = make_sandbox(photos=3, videos=0, albums=1, media_size=(size, size), bandwidth=rate)
    paths = [urlsplit(p["url_o"]).path for p in sb.all_photos()]
    conn = connect(sb.info)
    try:
        for path in paths:
            time.sleep(0.3)
            got = get(conn, path)
            assert got.body == size
            assert got.done - got.sent >= (size - BURST) / rate, got
    finally:
        conn.close()


def test_link_knobs_refuse_what_is_not_a_rate(make_sandbox):
    bad = subprocess.run([*EXODUS, "sandbox", "--connection-bandwidth", "0"], capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode == 2 and "--connection-bandwidth" in bad.stderr and "Traceback" not in bad.stderr
    sb = make_sandbox(photos=1, videos=0, albums=1)
    for knob, value in (("connection_bandwidth", 0), ("bandwidth", -5), ("connection_bandwidth", 1.5),
                        ("latency_ms", -1)):
        refused = sb.http.post(f"{sb.base}/__sandbox__/faults", json={knob: value}, timeout=30)
        assert refused.status_code == 400, (knob, value)
    assert sb.http.post(f"{sb.base}/__sandbox__/faults", json={"connection_bandwidth": 500_000},
                        timeout=30).status_code == 200
