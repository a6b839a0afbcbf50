"""The second run's check reads the training logs, not only the recorded metrics (tests/results/results_check.py)."""

from __future__ import annotations

from tests.results.results_check import logged_values

BAR = "\x1b[1m18/18\x1b[0m \x1b[32m━━━━\x1b[0m \x1b[1m1s\x1b[0m 47ms/step"


def _executed(*texts: str) -> dict:
    return {"cells": [{"cell_type": "code", "outputs": [{"output_type": "stream", "name": "stdout", "text": t}
                                                        for t in texts]}]}


def test_only_complete_bars_count_and_timings_never_do():
    first = _executed(f"\r\x1b[1m 1/18\x1b[0m 63ms/step - accuracy: 0.1562 - loss: 2.2917",
                      f"\x08\x08\r{BAR} - accuracy: 0.3904 - loss: 1.8848 - val_accuracy: 0.6840 - val_loss: 1.1233\n",
                      f"{BAR.replace('47ms', '5ms')} - accuracy: 0.4800 - loss: 0.6931\n")
    # the same run on a slower machine: other timings, other intermediate steps shown
    second = _executed(f"\r\x1b[1m 2/18\x1b[0m 90ms/step - accuracy: 0.2000 - loss: 2.1000",
                       f"\x08\x08\r{BAR.replace('47ms', '80ms')} - accuracy: 0.3904 - loss: 1.8848 - val_accuracy: "
                       "0.6840 - val_loss: 1.1233\n", f"{BAR.replace('47ms', '9ms')} - accuracy: 0.4800 - loss: 0.6931\n")
    assert logged_values(first) == logged_values(second) == [
        ("accuracy", "0.3904"), ("loss", "1.8848"), ("val_accuracy", "0.6840"), ("val_loss", "1.1233"),
        ("accuracy", "0.4800"), ("loss", "0.6931")]
    other = _executed(f"{BAR} - accuracy: 0.3904 - loss: 1.8849 - val_accuracy: 0.6840 - val_loss: 1.1233\n")
    assert logged_values(other) != logged_values(first)[:4]


def test_a_last_step_cut_by_another_print_counts_once():
    cut = _executed(f"{BAR} - accuracy: 0.3904 - loss: 1.8848", "\n",
                    f"\x08\x08\r{BAR} - accuracy: 0.3904 - loss: 1.8848 - val_accuracy: 0.6840 - val_loss: 1.1233\n")
    assert logged_values(cut) == [("accuracy", "0.3904"), ("loss", "1.8848"), ("val_accuracy", "0.6840"),
                                  ("val_loss", "1.1233")]


def test_a_checkpoint_the_second_run_did_not_write_is_found(tmp_path):
    import os
    from datetime import datetime, timezone

    from tests.results.results_check import stale_checkpoints

    start = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)
    executed = {"metadata": {"papermill": {"start_time": start.isoformat()}}}
    for name, minutes in (("fresh.keras", 5), ("old.keras", -5), ("sub/older.keras", -60), ("features.npy", -5)):
        path = tmp_path / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"x")
        stamp = start.timestamp() + 60 * minutes
        os.utime(path, (stamp, stamp))
    assert stale_checkpoints(executed, tmp_path) == ["old.keras", "sub/older.keras"]
