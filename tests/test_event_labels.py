"""Events that other domains write on cases are labelled on the timeline, not shown as a raw code."""

from civicgrid.cases.states import event_label


def test_domain_events_have_chinese_labels() -> None:
    assert event_label("sensor_note") == "监测提示"
    assert event_label("open311_update") == "外部系统更新"
    assert event_label("close") == "结案"
    assert event_label("supervise", {"level": "warning"}) == "黄灯预警"
    assert event_label("no_such_action") == "no_such_action"
