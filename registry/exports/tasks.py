from celery import shared_task

from .services import export_job_run


@shared_task(name="registry.build_export", ignore_result=True)
def build_export_task(job_id: str) -> None:
    export_job_run(job_id=job_id)
