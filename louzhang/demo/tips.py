"""The seed's tips in the demo city.

The most telling story of the seed: a resident reports a car with Wuhan plates parked under
building 34 of 保利百合; the warden checks the registry — the owner is a permanent resident, the
car was registered here in 2018 and no checkpoint has seen it leave — and tells the residents,
so that fear does not spread. And one tip still waiting for the warden: somebody back from
Wuhan in building 7 whom nobody has registered.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from louzhang.accounts.models import User
from louzhang.areas.models import Area
from louzhang.notifications.services import notifications_mark_read
from louzhang.tips.models import Category, Source, Status, Tip
from louzhang.tips.services import TipIn, tip_close, tip_receive, tip_verify_start

BUICK_TIP = "34号楼下停了一辆鄂A牌照的灰色别克轿车，好几天了，是不是从武汉来的？大家都很担心。"
BUICK_OUTCOME = (
    "经核查：该车车主是本小区常住居民，车辆2018年在本小区登记，此后各卡口均无出市记录，"
    "近期未去过武汉。请大家放心，不信谣、不传谣，有情况请随时联系楼长。"
)
RETURNEE_TIP = "7号楼二单元好像有人前几天从武汉回来，没见社区登记过，还下楼扔过垃圾。"


def demo_tips() -> int:
    """Insert the demo tips if they are missing; how many were added."""
    if Tip.objects.filter(plate="鄂A5K2B8").exists():
        return 0
    warden = User.objects.get(username="warden")
    now = timezone.now()
    building_34 = Area.objects.get(code="150202001001001-34")
    buick = tip_receive(TipIn(area=building_34, category=Category.VEHICLE, place="34号楼下停车位",
                              content=BUICK_TIP, plate="鄂A·5K2B8"),
                        source=Source.WEB, received_at=now - timedelta(hours=3)).tip
    tip_verify_start(tip=buick, actor=warden)
    tip_close(tip=buick, actor=warden, status=Status.UNFOUNDED, outcome=BUICK_OUTCOME, publish=True,
              notice_title="关于34号楼下鄂A牌照车辆的说明")
    building_7 = Area.objects.get(code="150202001001001-7")
    tip_receive(TipIn(area=building_7, category=Category.RETURNEE, place="7号楼二单元", content=RETURNEE_TIP),
                source=Source.WEB, received_at=now - timedelta(minutes=40))
    notifications_mark_read(user=warden)  # the warden has seen the news; the follow-up waits
    return 2
