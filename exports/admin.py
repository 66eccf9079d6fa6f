from django.contrib import admin, messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from exports import services
from exports.models import ExportJob


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    list_display = ["competition", "scope", "team", "format", "status", "progress", "created_at", "download"]
    list_filter = ["status", "format", "scope", "competition"]
    list_select_related = ["competition", "team"]
    readonly_fields = [f.name for f in ExportJob._meta.fields] + ["download"]
    actions = ["retry_failed"]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("Progress"))
    def progress(self, job: ExportJob) -> str:
        return f"{job.progress_percent}% ({job.rows_written:,} / {job.rows_total:,} rows)"

    @admin.display(description=_("Download"))
    def download(self, job: ExportJob) -> str:
        if not job.is_downloadable:
            return job.error[:80] if job.status == ExportJob.Status.FAILED else "-"
        url = reverse("admin:exports_exportjob_download", args=[job.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download"))

    @admin.action(description=_("Retry the selected failed or stalled exports"))
    def retry_failed(self, request, queryset):
        retried = sum(services.export_job_retry(job=job) for job in queryset)
        self.message_user(request, _("%(n)d export(s) queued again.") % {"n": retried}, messages.SUCCESS)

    def get_urls(self):
        download = self.admin_site.admin_view(self.download_view)
        return [path("<int:job_id>/download/", download, name="exports_exportjob_download"), *super().get_urls()]

    def download_view(self, request, job_id: int):
        if not self.has_view_permission(request):
            raise Http404
        job = get_object_or_404(ExportJob.objects.select_related("competition", "team"), pk=job_id)
        if not job.is_downloadable:
            raise Http404
        return FileResponse(job.file.open("rb"), as_attachment=True, filename=job.download_name)
