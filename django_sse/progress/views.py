"""A job's current state, and its cancel button, for its owner only."""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from django_sse.progress.jobs import request_cancel
from django_sse.progress.models import Job


@require_GET
@login_required
def job_state(request: HttpRequest, job_id: UUID) -> JsonResponse:
    """The state a page shows at once, before live updates continue it."""
    job = Job.objects.filter(pk=job_id, owner_id=request.user.pk).first()
    if job is None:
        raise Http404("No such job.")
    return JsonResponse(job.as_dict())


@require_POST
@login_required
def cancel_job(request: HttpRequest, job_id: UUID) -> JsonResponse:
    """Ask the job to stop (CSRF-protected like any POST); the worker observes it."""
    if not request_cancel(job_id, request.user):
        raise Http404("No such running job.")
    return JsonResponse({"id": str(job_id), "cancel_requested": True})
