"""The queue in the admin: pending, running, failed (with the error) and retried tasks.

django-tasks-db's own admin lists the tasks read-only; this one adds how often each was
tried, the error's last line in the list, and a re-queue action that calls the same service
as ``manage.py requeue_tasks``.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import ngettext
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

from jobs.services import tasks_requeue

admin.site.unregister(DBTaskResult)


@admin.register(DBTaskResult)
class TaskAdmin(DBTaskResultAdmin):
    list_display = (  # type: ignore[assignment]
        "task_name",
        "status",
        "tries",
        "error",
        "enqueued_at",
        "started_at",
        "finished_at",
        "run_after",
        "queue_name",
    )
    list_filter = ("status", "queue_name", "task_path")
    search_fields = ("id", "task_path", "exception_class_path")
    actions = ["requeue"]

    @admin.display(description="tries")
    def tries(self, obj: DBTaskResult) -> int:
        return len(obj.worker_ids)

    @admin.display(description="error")
    def error(self, obj: DBTaskResult) -> str:
        lines = [line for line in obj.traceback.splitlines() if line.strip()]
        return lines[-1][:200] if lines else ""

    @admin.action(description="Re-queue the selected failed or stuck tasks")
    def requeue(self, request: HttpRequest, queryset: QuerySet[DBTaskResult]) -> None:
        count = tasks_requeue(tasks=queryset)
        self.message_user(
            request,
            ngettext(
                "%(count)d task put back in the queue.",
                "%(count)d tasks put back in the queue.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )
