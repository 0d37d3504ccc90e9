"""Experiment tracking without a network: wandb offline runs and TensorBoard event files,
read back from disk."""

import json
import math
import struct
import time

import numpy as np
import pytest

from experiments import tracking

METRICS = [  # two evaluation intervals of a 3-member batch; member 2 diverges at the second
    (50, dict(score=[1.0, 2.0, 3.0], td_loss=[np.nan] * 3, diverged=[False, False, False])),
    (100, dict(score=[4.0, 6.0, 50.0], td_loss=[0.5, 0.25, 9.0], diverged=[False, False, True])),
]
CONFIG = {"agent": {"name": "er"}, "seed": 3}


def test_scalars_average_every_finite_value_and_keep_each_member():
    out = tracking.scalars(METRICS[1][1])
    assert out["score"] == 20.0  # member 2 diverged and still counts: (4 + 6 + 50) / 3
    assert out["td_loss"] == 3.25  # (0.5 + 0.25 + 9) / 3
    assert out["member_2/score"] == 50.0 and out["member_0/td_loss"] == 0.5
    assert out["diverged"] == pytest.approx(1 / 3)
    assert math.isnan(tracking.scalars(METRICS[0][1])["td_loss"])  # before learning starts


def test_unknown_logger_is_refused(tmp_path):
    with pytest.raises(ValueError, match="logger must be one of none, wandb, tensorboard; got 'x'"):
        tracking.make_tracker({"name": "x"}, tmp_path)


def test_none_logs_nothing(tmp_path):
    tracker = tracking.make_tracker({"name": "none"}, tmp_path)
    tracker.start(CONFIG, "run", None)
    tracker.on_interval(*METRICS[0])
    tracker.finish()
    assert not any(tmp_path.iterdir())


def run(tracker, run_name="agent=er", group="fig3"):
    tracker.start(CONFIG, run_name, group)
    for step, metrics in METRICS:
        tracker.on_interval(step, metrics)
    tracker.finish()


def test_tensorboard_event_file_reads_back(tmp_path):
    pytest.importorskip("tensorboardX")
    event_accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator"
    )
    run(tracking.make_tracker({"name": "tensorboard"}, tmp_path))
    events = event_accumulator.EventAccumulator(str(tmp_path / "tensorboard"))
    events.Reload()
    score = [(e.step, e.value) for e in events.Scalars("score")]
    assert score == [(50, 2.0), (100, 20.0)]
    assert [e.value for e in events.Scalars("member_1/td_loss")] == [
        pytest.approx(np.nan, nan_ok=True),
        0.25,
    ]
    assert "config" in " ".join(events.Tags()["tensors"])


def wandb_records(path):
    """The protobuf records of a wandb offline run file: a 7-byte header, then LevelDB-log
    blocks of 32 KiB holding (crc32c, length, type) headed chunks of records."""
    from wandb.proto import wandb_internal_pb2

    data, records, pending, offset = path.read_bytes(), [], b"", 7
    while offset + 7 <= len(data):
        if 32768 - offset % 32768 < 7:  # a block's tail too short for a header is padding
            offset += 32768 - offset % 32768
            continue
        _, length, kind = struct.unpack("<IHB", data[offset : offset + 7])
        pending += data[offset + 7 : offset + 7 + length]
        offset += 7 + length
        if kind in (1, 4):  # a FULL record, or the LAST chunk of one
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            records.append(record)
            pending = b""
    return records


def test_wandb_offline_run_reads_back(tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    run(tracking.make_tracker({"name": "wandb", "project": "mbgen-test"}, tmp_path))
    (path,) = tmp_path.glob("wandb/offline-run-*/run-*.wandb")
    records = wandb_records(path)
    for _ in range(100):  # wandb's service may still be writing the file after finish()
        if records and records[-1].WhichOneof("record_type") == "exit":
            break
        time.sleep(0.1)
        records = wandb_records(path)
    (header,) = [r.run for r in records if r.WhichOneof("record_type") == "run"]
    assert (header.project, header.run_group, header.display_name) == (
        "mbgen-test",
        "fig3",
        "agent=er",
    )
    config = {u.key: json.loads(u.value_json) for u in header.config.update}
    assert config["agent"] == {"name": "er"} and config["seed"] == 3
    history = [
        {
            item.key or "/".join(item.nested_key): json.loads(item.value_json)
            for item in r.history.item
        }
        for r in records
        if r.WhichOneof("record_type") == "history"
    ]
    assert [(h["_step"], h["score"]) for h in history] == [(50, 2.0), (100, 20.0)]
    assert history[1]["member_2/score"] == 50.0
