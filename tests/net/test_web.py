"""net/web.py's rules without sockets: whose page may connect, and whose address a proxy
may vouch for. Arbitrary header values never raise."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from miniircd.net.web import Headers, client_address, origin_allowed


def test_own_origin_listed_origins_any_origin_and_no_origin() -> None:
    host = b"chat.example.org:8097"
    assert origin_allowed(None, host, ())  # not a browser
    assert origin_allowed(b"http://chat.example.org:8097", host, ())
    assert origin_allowed(b"https://Chat.Example.org:8097/", host, ())  # a proxy ended TLS
    assert not origin_allowed(b"http://evil.example", host, ())
    assert not origin_allowed(b"http://chat.example.org", host, ())  # another port
    assert not origin_allowed(b"null", host, ())
    assert origin_allowed(b"https://evil.example", host, ("https://evil.example/",))
    assert origin_allowed(b"https://evil.example", host, ("*",))
    assert not origin_allowed(b"http://evil.example", None, ())


def headers(*pairs: tuple[bytes, bytes]) -> Headers:
    return Headers(list(pairs))


def test_forwarded_addresses_only_from_trusted_proxies() -> None:
    xff = headers((b"x-forwarded-for", b"203.0.113.7"))
    assert client_address("127.0.0.1", xff, ()) == "127.0.0.1"
    assert client_address("127.0.0.1", xff, ("10.0.0.0/8",)) == "127.0.0.1"
    assert client_address("127.0.0.1", xff, ("127.0.0.1",)) == "203.0.113.7"


def test_the_nearest_untrusted_hop_is_the_client() -> None:
    chain = headers((b"x-forwarded-for", b"198.51.100.9, 198.51.100.1"),
                    (b"x-forwarded-for", b"10.1.2.3"))  # fmt: skip
    assert client_address("127.0.0.1", chain, ("127.0.0.1", "10.0.0.0/8")) == "198.51.100.1"
    spoofed = headers((b"x-forwarded-for", b"127.0.0.5, 203.0.113.7"))
    assert client_address("127.0.0.1", spoofed, ("127.0.0.0/8",)) == "203.0.113.7"
    inside = headers((b"x-forwarded-for", b"10.0.0.5"))  # every hop trusted: the first one
    assert client_address("127.0.0.1", inside, ("127.0.0.1", "10.0.0.0/8")) == "10.0.0.5"


def test_forwarded_header_forms() -> None:
    trusted = ("127.0.0.1",)
    cases = {
        b'for="[2001:db8::1]:4711"': "2001:db8::1",
        b"for=192.0.2.60;proto=http;by=203.0.113.43": "192.0.2.60",
        b"for=192.0.2.60:8080": "192.0.2.60",
        b"For=192.0.2.43, for=198.51.100.17": "198.51.100.17",
        b"for=unknown": "127.0.0.1",  # a hop we cannot read: believe no one further
        b"for=_hidden": "127.0.0.1",
        b"proto=https": "127.0.0.1",
    }
    for value, expected in cases.items():
        assert client_address("127.0.0.1", headers((b"forwarded", value)), trusted) == expected
    both = headers((b"forwarded", b"for=192.0.2.1"), (b"x-forwarded-for", b"192.0.2.2"))
    assert client_address("127.0.0.1", both, trusted) == "192.0.2.1"  # Forwarded wins


def test_header_tokens_span_lines_and_commas() -> None:
    offered = headers((b"sec-websocket-protocol", b"text.ircv3.net, Binary.ircv3.net"),
                      (b"sec-websocket-protocol", b"x"))  # fmt: skip
    assert offered.tokens(b"sec-websocket-protocol") == [
        b"text.ircv3.net", b"binary.ircv3.net", b"x"
    ]  # fmt: skip
    assert offered.one(b"sec-websocket-protocol") is None  # more than one line
    assert offered.one(b"origin") is None


@given(st.binary(max_size=80), st.binary(max_size=80), st.binary(max_size=40))
def test_any_header_value_is_answered_not_raised(
    forwarded: bytes, xff: bytes, origin: bytes
) -> None:
    for pairs in ([(b"forwarded", forwarded)], [(b"x-forwarded-for", xff)]):
        address = client_address("127.0.0.1", Headers(pairs), ("127.0.0.0/8",))
        assert isinstance(address, str)
    assert isinstance(origin_allowed(origin, b"h", ()), bool)
