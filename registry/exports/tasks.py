from celery import shared_task

from .jobs import sweep_stale_jobs
from .services import export_job_run


@shared_task(name="registry.build_export", ignore_result=True)
def build_export_task(job_id: str) -> None:
    export_job_run(job_id=job_id)


@shared_task(name="registry.sweep_stale_exports", ignore_result=True)
def sweep_stale_exports() -> int:
    return sweep_stale_jobs()
