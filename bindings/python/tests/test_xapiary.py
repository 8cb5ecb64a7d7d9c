"""The Python binding against a real server: a spool, a search tier and a
configuration made here, mail appended with mbctl and indexed with
squatter (both from the build: $XAPIARY_MBCTL, $XAPIARY_SQUATTER), then
searched through libxapiary ($XAPIARY_LIBRARY)."""

import os
import subprocess
import textwrap

import pytest

import xapiary

MAIL = {
    "reply": textwrap.dedent("""\
        From: Bob <bob@example.com>
        To: Alice <alice@example.com>
        Cc: carol@example.com
        Subject: Re: razor blades
        Date: Tue, 01 Mar 2022 12:00:00 +0000
        Message-ID: <reply-1@example.com>
        In-Reply-To: <orig-1@example.com>

        The razors arrived, and they are sharp.
        """),
    "older": textwrap.dedent("""\
        From: Bob <bob@example.com>
        To: alice@example.com
        Subject: razor order
        Date: Mon, 28 Feb 2022 12:00:00 +0000
        Message-ID: <orig-1@example.com>

        I ordered a razor.
        """),
    "japanese": textwrap.dedent("""\
        From: tanaka@example.jp
        To: alice@example.com
        Subject: meeting
        Date: Wed, 02 Mar 2022 12:00:00 +0000
        MIME-Version: 1.0
        Content-Type: text/plain; charset=utf-8
        Content-Transfer-Encoding: 8bit

        来週は東京オフィスで会議があります。
        """),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    top = tmp_path_factory.mktemp("server")
    for d in ("conf", "search"):
        (top / d).mkdir()
    config = top / "xapiary.conf"
    config.write_text("configdirectory: %s/conf\npartition-default: %s/spool\n"
                      "t1searchpartition-default: %s/search\ndefaultsearchtier: t1\n"
                      % (top, top, top))
    env = dict(os.environ, XAPIARY_CONFIG=str(config))
    mbctl, squatter = os.environ["XAPIARY_MBCTL"], os.environ["XAPIARY_SQUATTER"]
    subprocess.run([mbctl, "create", "user.alice"], env=env, check=True)
    for name in ("older", "reply", "japanese"):
        subprocess.run([mbctl, "append", "user.alice"], input=MAIL[name].encode(),
                       env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([squatter, "-u", "alice"], env=env, check=True)
    return str(config)


def test_search_hits_have_the_fields(server):
    with xapiary.Session("alice", config=server) as s:
        hits = s.search("from:bob razor", limit=5, sort="date")
        assert hits.total == 2 and len(hits) == 2 and hits.unindexed == 0
        h = hits[0]                       # newest first
        assert h.mailbox == "user.alice" and h.uid == 2
        assert h.subject == "Re: razor blades"
        assert h.from_ == "Bob <bob@example.com>"
        assert h.to == "Alice <alice@example.com>"
        assert h.cc == "carol@example.com"
        assert h.message_id == "<reply-1@example.com>"
        assert h.in_reply_to == "<orig-1@example.com>"
        assert h.size == len(MAIL["reply"])
        assert h.date.year == 2022 and h.date.month == 3 and h.date.day == 1
        assert h.internaldate.year >= 2022
        assert h.flags == frozenset() and h.keywords == ()
        assert len(h.guid) == 40
        with open(h.path, "rb") as f:
            assert f.read() == MAIL["reply"].encode()
        assert [x.uid for x in s.search("razor", sort="oldest")] == [1, 2]
        assert len(s.search("razor", limit=1, offset=1)) == 1


def test_snippets_stemmed_and_cjk(server):
    with xapiary.Session("alice", config=server) as s:
        hits = s.search("razor", sort="oldest")
        assert s.snippets(hits) == ["I ordered a <mark>razor</mark>.",
                                    "The <mark>razors</mark> arrived, and they are sharp."]
        # chosen hits, the caller's markers
        assert s.snippets(hits[1:], start="[", end="]") == [
            "The [razors] arrived, and they are sharp."]
        (snippet,) = s.snippets(s.search("東京"))
        assert "<mark>東京</mark>" in snippet


def test_open_reads_the_message(server):
    with xapiary.Session("alice", config=server) as s:
        (hit,) = s.search("id:orig-1@example.com")
        with s.open(hit) as f:
            assert f.read() == MAIL["older"].encode()


def test_errors_carry_code_and_message(server):
    with xapiary.Session("alice", config=server) as s:
        with pytest.raises(xapiary.Error) as e:
            s.search("from:(bob")
        assert e.value.code == xapiary.XAP_IMAP_SEARCH_SYNTAX
        assert e.value.name == "XAP_IMAP_SEARCH_SYNTAX"
        assert "position 10" in e.value.message    # the detail of xap_search_run
        with pytest.raises(xapiary.Error) as e:
            s.search("mailbox:nosuch")
        assert e.value.code == xapiary.XAP_IMAP_MAILBOX_NONEXISTENT
        assert "nosuch" in e.value.message
        with pytest.raises(ValueError):
            s.search("razor", sort="sideways")
        hits = s.search("razor")
    with pytest.raises(xapiary.Error) as e:
        s.search("razor")                 # closed
    assert e.value.code == xapiary.XAP_IMAP_INVALID_ARGUMENT
    with xapiary.Session("alice", config=server) as s2:
        with pytest.raises(xapiary.Error):
            s2.snippets(hits)             # a hit of a closed session
    with pytest.raises(xapiary.Error) as e:
        xapiary.Session("nobody", config=server)
    assert e.value.code == xapiary.XAP_IMAP_MAILBOX_NONEXISTENT
    with pytest.raises(xapiary.Error) as e:
        xapiary.Session("alice", config=server + ".other")
    assert e.value.code == xapiary.XAP_IMAP_CONFIG


def test_results_are_freed_with_their_hits(server):
    # Many searches in one session: each result goes when its hits do.
    with xapiary.Session("alice", config=server) as s:
        for _ in range(200):
            assert len(s.search("razor")) == 2
        assert len(s._results) <= 2
