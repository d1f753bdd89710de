"""repo_commits: a held session's records wait for their last read (never past the hold), a
read credits the larger of the tool's and the repository's commits with AI, a commit counts
for one segment only, and reading again changes nothing."""

from __future__ import annotations

from pathlib import Path

from aitally.core.store import outbox, repo_commits, segments
from tests.core.store.segment_rows import add_closed, add_segment, new_store

SHA_A, SHA_B, SHA_C = "a" * 40, "b" * 40, "c" * 40


def test_a_held_segment_waits_until_its_last_read_or_the_hold_ends(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    with store.transaction() as conn:
        sid, seg, rid = add_closed(conn, "S", 100.0, 200.0)
        add_closed(conn, "other", 100.0, 200.0)
        repo_commits.hold(conn, [sid, 999], 5000.0)  # 999: no such session, ignored
        waiting = {r["record_id"] for r in outbox.pending(conn, 1000.0, 10)}
        assert rid not in waiting and len(waiting) == 1
        # Past the hold (the agent that held it stopped refreshing), it goes as it is.
        assert rid in {r["record_id"] for r in outbox.pending(conn, 5001.0, 10)}
        assert [w.id for w in repo_commits.to_read(conn, sid)] == [seg]
        repo_commits.record_read(conn, seg, [], last=False)
        assert rid not in {r["record_id"] for r in outbox.pending(conn, 1000.0, 10)}
        repo_commits.record_read(conn, seg, [SHA_A], last=True)
        assert rid in {r["record_id"] for r in outbox.pending(conn, 1000.0, 10)}
        assert repo_commits.to_read(conn, sid) == []
    store.close()


def test_release_lets_every_held_record_go(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    with store.transaction() as conn:
        sid, _, rid = add_closed(conn, "S", 100.0, 200.0)
        repo_commits.hold(conn, [sid], 5000.0)
        repo_commits.release(conn)
        assert rid in {r["record_id"] for r in outbox.pending(conn, 1000.0, 10)}
    store.close()


def test_the_larger_of_the_tools_and_the_repositorys_count_and_idempotent(
    tmp_path: Path,
) -> None:
    store = new_store(tmp_path)
    with store.transaction() as conn:
        _, seg, _ = add_closed(conn, "S", 100.0, 200.0)
        # The tool's own files counted one commit with AI and one without.
        conn.execute("INSERT INTO segment_outcomes VALUES (?, 'commits', 2)", (seg,))
        conn.execute("INSERT INTO segment_outcomes VALUES (?, 'commits_with_ai', 1)", (seg,))
        # The repository shows that commit: nothing more.
        assert repo_commits.record_read(conn, seg, [SHA_A], last=False) == 1
        assert segments.outcomes_of(conn, [seg])[seg] == {"commits": 2, "commits_with_ai": 1}
        # Two more made by hand after the tool was done, with its trailer: 3 in all.
        for _ in range(2):  # a second read of the same commits adds nothing
            assert repo_commits.record_read(conn, seg, [SHA_A, SHA_B, SHA_C], last=True) == 3
        assert segments.outcomes_of(conn, [seg])[seg] == {"commits": 4, "commits_with_ai": 3}
    store.close()


def test_a_segment_without_the_tools_counts_gets_them_from_the_repository(
    tmp_path: Path,
) -> None:
    store = new_store(tmp_path)
    with store.transaction() as conn:
        _, seg, _ = add_closed(conn, "S", 100.0, 200.0)
        repo_commits.record_read(conn, seg, [], last=False)
        assert segments.outcomes_of(conn, [seg]) == {}  # nothing found: nothing recorded
        repo_commits.record_read(conn, seg, [SHA_A], last=False)
        assert segments.outcomes_of(conn, [seg])[seg] == {"commits": 1, "commits_with_ai": 1}
        # The tool's own count arrives later (its line read after): still the larger.
        conn.execute("UPDATE segment_outcomes SET count = count + 1 WHERE segment_id = ?", (seg,))
        repo_commits.record_read(conn, seg, [SHA_A], last=True)
        assert segments.outcomes_of(conn, [seg])[seg] == {"commits": 1, "commits_with_ai": 1}
    store.close()


def test_a_commit_counts_for_the_first_segment_that_reads_it(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    with store.transaction() as conn:
        sid, first, _ = add_closed(conn, "S", 100.0, 200.0)
        second = add_segment(conn, sid, 1, 300.0, None)
        repo_commits.record_read(conn, first, [SHA_A], last=True)
        assert repo_commits.record_read(conn, second, [SHA_A, SHA_B], last=False) == 1
        got = segments.outcomes_of(conn, [first, second])
        assert got[first]["commits_with_ai"] == 1 and got[second]["commits_with_ai"] == 1
        # Only keyed hashes are stored, never a sha.
        keys = [r[0] for r in conn.execute("SELECT commit_key FROM repo_commits")]
        assert len(keys) == 2 and not {SHA_A, SHA_B} & set(keys)
    store.close()
