"""Personal numbers never reach a group chat, however they were typed; ordinary numbers do.

`scrub` itself over the whole class (prefixes, separators, full-width and other digits,
invisible characters, grouped and old ID numbers), then a task summary as it reaches a WeCom
robot through the worker."""

from __future__ import annotations

from datetime import timedelta

import pytest

from louzhang.areas.models import Area
from louzhang.followups.services import followup_open
from louzhang.notifications.scrub import scrub
from louzhang.notifications.services import channel_add
from tests.conftest import BAOLI_34_2_6W, DONGHE, InlineWorker
from tests.receiver import Receiver

MOBILES = [
    "13812345678",
    "+8613812345678",
    "+86 138 1234 5678",
    "+86-138-1234-5678",
    "008613812345678",
    "0086 13812345678",
    "(+86)138 1234 5678",
    "86 138-1234-5678",
    "8613812345678",
    "138-1234-5678",
    "138 1234 5678",
    "138.1234.5678",
    "1381 234 5678",
    "１３８１２３４５６７８",  # full-width
    "＋８６　１３８－１２３４－５６７８",  # full-width plus, ideographic space, full-width dash
    "138\u200b1234\u200b5678",  # zero-width spaces
    "138\u20131234\u20135678",  # en dashes
    "\u0661\u0663\u0668\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668",  # Arabic-Indic digits
]

IDS = [
    ("150202198001011236", "1502**********1236"),
    ("15020219800101123X", "1502**********123X"),
    ("15020219800101123x", "1502**********123X"),
    ("150202 19800101 1236", "1502**********1236"),
    ("150202-19800101-1236", "1502**********1236"),
    ("1502 0219 8001 0112 36", "1502**********1236"),
    ("１５０２０２１９８００１０１１２３６", "1502**********1236"),
    ("150202800101123", "1502*******1123"),  # an old 15-digit ID (born 1980-01-01)
    ("150202 800101 123", "1502*******1123"),
]


@pytest.mark.parametrize("number", MOBILES)
def test_every_way_of_writing_a_mobile_number_is_masked(number: str) -> None:
    out = scrub(f"访客 {number} 发热")
    assert out == "访客 138****5678 发热", out


@pytest.mark.parametrize(("number", "masked"), IDS)
def test_every_way_of_writing_an_id_number_is_masked(number: str, masked: str) -> None:
    out = scrub(f"身份证：{number}，住34号楼")
    assert out == f"身份证：{masked}，住34号楼", out


@pytest.mark.parametrize("text", [
    "2020-01-28 23:40 体温 38.4 ℃，共 12 人",
    "2020年1月28日 13:45，37.3°C",
    "蒙B12345、鄂A·5K2B8、京A12345",
    "保利百合 150202001001001 34号楼二单元 150202001001001-34-2-0601",
    "今日检查车辆 1380 辆，来自湖北 138 辆，人员 5678 人",
    "订单 20200128123456789",
    "编号 2020012812345",
    "地点：东河区 保利百合（34号楼）",
    "体温 36.5 36.8 37.1 36.6 36.7",
])
def test_ordinary_numbers_and_chinese_punctuation_are_left_alone(text: str) -> None:
    assert scrub(text) == text


def test_several_numbers_in_one_text_and_nothing_else_changes() -> None:
    text = "【任务】访客 张三（+86 139-1234-5678，身份证 150202 19800101 1236）与 13812345678 同行，38.4 ℃。"
    assert scrub(text) == "【任务】访客 张三（139****5678，身份证 1502**********1236）与 138****5678 同行，38.4 ℃。"


def test_a_task_summary_reaches_the_robot_without_any_of_them(receiver: Receiver, warden: object,
                                                               worker: InlineWorker) -> None:
    channel_add(name="东河区楼长工作群", kind="wecom", url=f"{receiver.url}/cgi-bin/webhook/send?key=K",
                area_code=DONGHE, roles=["warden"], actor=None)
    summary = ("34号楼 访客 +8613812345678 / 139 1234 5678 / １３７１２３４５６７８ "
               "身份证 150202 19800101 1236、150202800101123 发热 38.4 °C")
    followup_open(rule="test_fever", kind="task", subject_type="household", subject_id="h1",
                  area=Area.objects.get(code=BAOLI_34_2_6W), summary=summary, action="请核实 13612345678",
                  due_in=timedelta(hours=1))
    worker.run()
    [request] = receiver.requests
    content = request.json()["text"]["content"]
    digits = "".join(c for c in content if c.isdigit())
    for number in ("13812345678", "13912345678", "13712345678", "150202198001011236", "150202800101123",
                   "13612345678"):
        assert number not in digits, number
    assert "138****5678" in content and "1502**********1236" in content and "38.4 °C" in content


@pytest.mark.parametrize(("text", "expected"), [
    ("138 - 1234 - 5678", "138****5678"),
    ("138/1234/5678", "138****5678"),
    ("138_1234_5678", "138****5678"),
    ("138，1234，5678", "138****5678"),
    ("0086 138 1234 5678", "138****5678"),
    # an address of several flats is not a phone number; a town's compound code is not an ID
    ("户号 1-3-601 1-4-201 1-5-301", "户号 1-3-601 1-4-201 1-5-301"),
    ("小区 150782101001001", "小区 150782101001001"),
])
def test_separators_between_groups_and_what_only_looks_like_a_number(text: str, expected: str) -> None:
    assert scrub(text) == expected
