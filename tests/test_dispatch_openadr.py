"""Grid events from OpenADR 3 messages: intervals to curtailment events (targets, notice, units, consecutive
intervals), refusals that name the field, and a dispatch that meets a capacity limit read from a message file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from solvers.dispatch_inputs import DispatchInputError, read_events
from solvers.dispatch_openadr import events_from_openadr


def message(**over):
    msg = {"id": "ev-7", "programID": "feeder-12", "createdDateTime": "2025-01-01T08:00:00Z",
           "payloadDescriptors": [{"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": "IMPORT_CAPACITY_LIMIT",
                                   "units": "KW"}],
           "intervalPeriod": {"start": "2025-01-01T10:00:00Z", "duration": "PT1H30M"},
           "intervals": [{"id": 0, "payloads": [{"type": "IMPORT_CAPACITY_LIMIT", "values": [300]}]},
                         {"id": 1, "payloads": [{"type": "IMPORT_CAPACITY_LIMIT", "values": [250]}]}]}
    msg.update(over)
    return msg


def test_intervals_follow_each_other_with_targets_in_mw_and_the_notice_from_creation():
    evs = events_from_openadr(message())
    assert [e.id for e in evs] == ["ev-7/0", "ev-7/1"]
    assert [str(e.start) for e in evs] == ["2025-01-01T10:00:00", "2025-01-01T11:30:00"]
    assert [e.duration_h for e in evs] == [1.5, 1.5]
    assert [e.target_mw for e in evs] == [0.3, 0.25]
    assert [e.notice_h for e in evs] == [2.0, 3.5]


def test_offsets_become_utc_and_megawatts_are_read_as_such():
    msg = message(intervalPeriod={"start": "2025-01-01T12:00:00+02:00", "duration": "PT15M"},
                  payloadDescriptors=[{"payloadType": "IMPORT_CAPACITY_LIMIT", "units": "MW"}])
    msg["intervals"] = [{"id": 0, "intervalPeriod": {"start": "2025-01-01T13:00:00+02:00"},
                         "payloads": [{"type": "IMPORT_CAPACITY_LIMIT", "values": [6]}]}]
    (e,) = events_from_openadr(msg)
    assert str(e.start) == "2025-01-01T11:00:00" and e.duration_h == 0.25 and e.target_mw == 6.0


@pytest.mark.parametrize(("change", "words"), [
    ({"intervals": [{"id": 0, "payloads": [{"type": "PRICE", "values": [0.2]}]}]}, "carry no IMPORT_CAPACITY_LIMIT"),
    ({"intervalPeriod": {"start": "2025-01-01T10:00:00Z", "duration": "3 hours"}}, "ISO 8601 duration"),
    ({"intervalPeriod": {"start": "tomorrow", "duration": "PT1H"}}, "RFC 3339"),
    ({"payloadDescriptors": [{"payloadType": "IMPORT_CAPACITY_LIMIT", "units": "A"}]}, "units 'A'"),
    ({"intervals": [{"id": 0, "payloads": [{"type": "IMPORT_CAPACITY_LIMIT", "values": [-1]}]}]}, "one number >= 0"),
])
def test_unusable_messages_are_refused_naming_the_field(change, words):
    with pytest.raises(DispatchInputError, match=words):
        events_from_openadr(message(**change))


@pytest.mark.solver
def test_a_dispatch_meets_a_capacity_limit_read_from_a_message_file(tmp_path):
    import solvers
    from tests.conftest import small_facility

    path = tmp_path / "event.json"
    msg = message()
    msg["intervals"] = msg["intervals"][:1]
    path.write_text(json.dumps(msg))
    assert read_events(path)[0].target_mw == 0.3
    run = solvers.dispatch(small_facility(), hours=24, events=path)
    ds = run.dataset
    during = ds.event.values
    assert during.sum() == 2                               # 10:00-11:30 overlaps the 10:00 and 11:00 steps
    assert np.all(ds.grid_import_kw.values[during] <= 300 * (1 + 1e-6))
    assert run.met, run.explanation
