from django.urls import reverse
from rest_framework import serializers

from exports.models import ExportJob


class ExportJobCreateSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=ExportJob.Format.choices)
    scope = serializers.ChoiceField(choices=ExportJob.Scope.choices)
    team = serializers.SlugField(required=False, allow_blank=True)


class ExportJobSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    competition = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "competition",
            "scope",
            "team",
            "format",
            "status",
            "progress_percent",
            "rows_written",
            "rows_total",
            "error",
            "counts",
            "file_size",
            "created_at",
            "started_at",
            "finished_at",
            "expires_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, job: ExportJob) -> str | None:
        if not job.is_downloadable:
            return None
        path = reverse("api-export-download", kwargs={"public_id": job.public_id})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path
