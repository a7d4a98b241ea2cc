"""The one task of users' background jobs: it takes the job's model and id and calls a service."""

from __future__ import annotations

from django_tasks import task

from louzhang.worker.jobs import job_run


@task()
def run_job(label: str, job_id: int) -> str:
    return job_run(label=label, job_id=job_id)
