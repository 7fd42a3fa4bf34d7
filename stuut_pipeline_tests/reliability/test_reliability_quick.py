"""The reliability suite in quick mode (reliability/, `python -m reliability --quick`).

Real faults from outside: SIGKILL of `stuut-pipeline run` process groups (on a local directory
and on S3, a SeaweedFS server the suite starts itself), a small mounted filesystem that fills up,
a concurrent reader process, an API answering 429s and 500s during a backfill, hostile records,
a refresh that shrinks a workflow, and an API that sends HTML, resets, trickles and cycles. After
each, no secret may be in any file or process output. Every scenario must survive; a scenario
that cannot run here must say why, and only a mount permission error is an accepted reason.
"""

from __future__ import annotations

import pytest

from reliability.__main__ import QUICK, run_all, table

MOUNT_PERMISSION_ERRORS = ("permission denied", "must be superuser", "not permitted", "only root")


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    found = run_all(tmp_path_factory.mktemp("reliability"), QUICK, out=lambda _: None)
    print(table(found))
    return {r.name: r for r in found}


def test_every_scenario_survived(results):
    assert set(results) == {
        "kill",
        "kill_s3",
        "disk_full",
        "readers",
        "load",
        "hostile",
        "shrink",
        "api",
    }
    for name, r in results.items():
        if r.not_runnable:
            assert name == "disk_full", r.not_runnable
            assert any(text in r.not_runnable.lower() for text in MOUNT_PERMISSION_ERRORS), (
                r.not_runnable
            )
            continue
        assert r.survived, f"{r.scenario}: {r.notes}"
        assert r.partial_visible == 0, r.notes
        assert r.rows_lost in (0, None), r.notes


def test_hostile_records_are_published_or_quarantined_and_landed_byte_exact(results):
    r = results["hostile"]
    assert r.trials == 2 and r.failed_runs == 0 and r.rows_lost == 0, r.notes
    per_workflow = [n for n in r.notes if n.startswith("otwfl_")]
    assert len(per_workflow) == 2 and all("byte-exact: True" in n for n in per_workflow)
    assert any("quarantined 0" not in n for n in per_workflow), "no record was quarantined"


def test_a_shrinking_refresh_is_refused_and_changes_nothing(results):
    r = results["shrink"]
    assert r.error_clear.startswith("yes"), r.error_clear
    assert any(n.endswith("published files changed: 0") for n in r.notes), r.notes


def test_a_misbehaving_api_gives_exact_data_or_a_clear_error(results):
    r = results["api"]
    assert any(n.startswith("flaky: exit 0") and n.endswith("exact: 3/3") for n in r.notes), r.notes
    assert r.error_clear.startswith("yes") and "next_page" in r.error_clear, r.error_clear
    assert any(n.startswith("cycle: exit 1") and "changed: 0" in n for n in r.notes), r.notes


def test_no_scenario_left_a_secret_anywhere(results):
    for r in results.values():
        assert r.secrets_found == 0, r.notes
        assert any(note.startswith("secret scan:") for note in r.notes), r.notes


def test_the_load_backfill_met_faults_and_every_workflow_run_succeeded(results):
    r = results["load"]
    assert r.trials == 6 and r.failed_runs == 0, r.notes
    assert any(note.startswith("outputs exact") and note.endswith(": 6/6") for note in r.notes)


@pytest.mark.parametrize("name", ["kill", "kill_s3"])
def test_kill_left_the_four_tables_from_one_run(results, name):
    one_run, trials = results[name].tables_from_one_run
    expected = {"kill": QUICK.kill_trials, "kill_s3": QUICK.kill_s3_trials}[name]
    assert trials == expected
    assert one_run == trials, results[name].notes


def test_disk_full_message_names_the_path_and_enospc(results):
    r = results["disk_full"]
    if r.not_runnable:
        pytest.skip(r.not_runnable)
    assert r.error_clear.startswith("yes"), r.error_clear
