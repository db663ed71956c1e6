"""The progress demos: a batch import and a phased report, each a POST stream the
page reads with ``djangoSSE.post()``, and a background export job that survives
a reload of its page.
"""

from __future__ import annotations

import threading
from functools import cache
from uuid import UUID

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from demo_project import work
from demo_project.models import ImportRun
from demo_project.views import render_page
from django_sse.http import EventStreamResponse
from django_sse.progress.jobs import start_job
from django_sse.progress.models import Job

EXPORT_JOB = "export"  # the name of the demo's background jobs


def celery_enabled() -> bool:
    """Exports run on Celery when the settings name a broker (demo_project/celery.py)."""
    return bool(getattr(settings, "CELERY_BROKER_URL", ""))


@login_required
def batch(request: HttpRequest) -> HttpResponse:
    runs = ImportRun.objects.filter(owner=request.user)[:5]
    failing = len(work.BAD_ITEMS)
    return render_page(
        request, "progress/batch.html", runs=runs, total=work.BATCH_SIZE, failing=failing
    )


@require_POST
@login_required
def batch_run(request: HttpRequest) -> EventStreamResponse:
    run = ImportRun.objects.create(owner=request.user, total=work.BATCH_SIZE)
    return EventStreamResponse(work.import_items(run.pk, run.total))


@login_required
def phases(request: HttpRequest) -> HttpResponse:
    weights = [{"name": name, "weight": weight} for name, weight in work.PHASES.items()]
    return render_page(request, "progress/phases.html", phases=weights)


@require_POST
@login_required
def phases_run(request: HttpRequest) -> EventStreamResponse:
    return EventStreamResponse(work.build_report())


@login_required
def jobs(request: HttpRequest) -> HttpResponse:
    """The user's recent export jobs; a POST starts one in a thread and opens its page."""
    if request.method == "POST":
        job = start_job(request.user, EXPORT_JOB, total=work.EXPORT_STEPS, message="Starting")
        if celery_enabled():
            from demo_project.celery import app

            app.send_task("demo_project.tasks.export_records", args=[str(job.id)])
        else:
            name = f"demo-export-{job.id}"
            threading.Thread(
                target=work.export_records, args=(str(job.id),), name=name, daemon=True
            ).start()
        return redirect("export_job", job.id)
    recent = Job.objects.filter(owner_id=request.user.pk, name=EXPORT_JOB).order_by("-created")
    runner = "a Celery worker" if celery_enabled() else "a thread of the server"
    return render_page(request, "progress/jobs.html", jobs=recent[:5], runner=runner)


@login_required
def export_job(request: HttpRequest, job_id: UUID) -> HttpResponse:
    """One job's page. Its state is read by the template, after ``{% sse_script %}``
    took its cursor: a job ending in between is then replayed, not missed."""
    found = Job.objects.filter(pk=job_id, owner_id=request.user.pk, name=EXPORT_JOB)
    if not found.exists():  # or someone else's: the same answer, a page of the demo's own
        page = render_page(request, "progress/no_job.html")
        page.status_code = 404
        return page
    return render_page(request, "progress/job.html", job_id=job_id, job=cache(found.get))
