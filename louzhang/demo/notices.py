"""The seed's notices and warden card in the demo city.

郝志东, the police warden of 保利百合, shows his identity to residents (亮身份) — his card is on
the compound's public page and its stairwell poster — and pushes prevention advice and a rumour
rebuttal to the compound (宣传、辟谣).
"""

from __future__ import annotations

from louzhang.accounts.models import User
from louzhang.areas.models import Area
from louzhang.notices.models import Notice, WardenCard
from louzhang.notices.services import CardText, card_save, notice_publish

BAOLI = "150202001001001"

PUBLICITY_TITLE = "戴口罩、勤洗手、少出门"
PUBLICITY_BODY = (
    "各位居民：\n"
    "当前疫情防控进入关键时期，请大家：\n"
    "1. 出门佩戴口罩，不去人员密集场所；\n"
    "2. 勤洗手、常通风，不聚餐、不串门；\n"
    "3. 进出小区配合门岗测温、登记；\n"
    "4. 近期从武汉等重点地区返回的，请主动向楼长报告，居家观察14天。\n"
    "有发热、乏力、干咳等症状的，请及时联系楼长，不要自行乘坐公共交通就医。"
)
RUMOUR_TITLE = "辟谣：喝白酒、熏醋不能预防新型冠状病毒"
RUMOUR_BODY = (
    "近日有群里转发“喝高度白酒、熏醋可以杀灭病毒”的说法，这是谣言。\n"
    "饮酒不能预防病毒感染，熏醋不能消毒空气，反而可能刺激呼吸道。\n"
    "请以官方发布的信息为准，不信谣、不传谣。对群里的说法拿不准的，可以问楼长。"
)


def demo_notices() -> int:
    """Give the demo warden a published card and publish the demo notices to 保利百合, whatever
    of it is missing; how many things were added (idempotent)."""
    warden = User.objects.get(username="warden")
    added = 0
    if not WardenCard.objects.filter(user=warden).exists():
        card_save(actor=warden, published=True, text=CardText(
            display_name=warden.display_name or "郝志东", title="社区民警", badge_number="150342",
            unit_name="西脑包派出所", duty_phone="0472-4171110",
            motto="24小时在岗。有事请打值班电话，或在楼群里@我；不方便说的，扫码反映。",
        ))
        added += 1
    baoli = Area.objects.get(code=BAOLI)
    for kind, title, body in ((Notice.Kind.PUBLICITY, PUBLICITY_TITLE, PUBLICITY_BODY),
                              (Notice.Kind.RUMOUR, RUMOUR_TITLE, RUMOUR_BODY)):
        if not Notice.objects.filter(area=baoli, title=title).exists():
            notice_publish(actor=warden, area=baoli, kind=kind, title=title, body=body)
            added += 1
    return added
