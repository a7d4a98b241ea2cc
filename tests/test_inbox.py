"""The in-app inbox: always on, unread count in the top bar, only one's own lines."""

from __future__ import annotations

from datetime import timedelta

from louzhang.accounts.models import User
from louzhang.areas.models import Area
from louzhang.followups.services import followup_open
from louzhang.notifications.models import Notification
from louzhang.notifications.services import notifications_mark_read
from tests.conftest import BAOLI_34_2_6W, web_client


def test_a_new_follow_up_shows_in_the_owners_inbox_with_an_unread_count(warden: User, warden_jy: User) -> None:
    notifications_mark_read(user=warden)  # what the demo city already told them
    followup, _ = followup_open(
        rule="test", kind="task", subject_type="household", subject_id="x",
        area=Area.objects.get(code=BAOLI_34_2_6W), summary="6楼西户 居家观察人员外出",
        action="立即联系并劝返", due_in=timedelta(minutes=30),
    )
    client = web_client(warden)
    home = client.get("/").content.decode()
    assert 'data-unread="1"' in home
    inbox = client.get("/inbox/").content.decode()
    assert "6楼西户 居家观察人员外出" in inbox and f"/followups/{followup.pk}/" in inbox

    other = web_client(warden_jy)
    assert 'data-unread="0"' in other.get("/").content.decode()
    assert "居家观察人员外出" not in other.get("/inbox/").content.decode()

    assert client.post("/inbox/read").status_code == 302
    assert 'data-unread="0"' in client.get("/").content.decode()
    assert Notification.objects.get(about=followup.about).read_at is not None


def test_gate_staff_have_no_follow_up_pages_but_an_inbox(gate: User) -> None:
    client = web_client(gate)
    assert client.get("/inbox/").status_code == 200
    assert client.get("/deliveries/").status_code == 404
    assert client.get("/channels/").status_code == 404
    page = client.get("/followups/?view=active").content.decode()
    assert "data-followup=" not in page
