"""Background tasks of the notifications app: they take ids and call a service."""

from __future__ import annotations

from django_tasks import task

from louzhang.notifications.services import delivery_send


@task()
def deliver(delivery_id: int) -> str:
    return delivery_send(delivery_id=delivery_id)
