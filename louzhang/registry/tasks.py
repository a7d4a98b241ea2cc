"""Background tasks of the registry: they take ids and call a service."""

from __future__ import annotations

from django_tasks import task

from louzhang.registry.jobs import import_job_run


@task()
def run_import_job(job_id: int) -> str:
    return import_job_run(job_id=job_id)


@task()
def run_export_job(job_id: int) -> str:
    from louzhang.registry.exports import export_job_run

    return export_job_run(job_id=job_id)
