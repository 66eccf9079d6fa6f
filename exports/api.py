"""API: create an export job, poll its progress, download its archive (token or session auth)."""

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from competitions.models import Competition, Team
from exports import selectors, services
from exports.models import ExportJob
from exports.serializers import ExportJobCreateSerializer, ExportJobSerializer
from hulic.api_errors import ApiErrorSerializer, error_body

NOT_ALLOWED = OpenApiResponse(ApiErrorSerializer, description="You may not request this export.")
NOT_READY = OpenApiResponse(ApiErrorSerializer, description="The export is not ready (or no longer) to download.")


def _visible_job(request, public_id) -> ExportJob:
    job = get_object_or_404(ExportJob.objects.select_related("competition", "team"), public_id=public_id)
    if not selectors.export_job_can_view(job=job, user=request.user):
        raise Http404
    return job


class CompetitionExportsApi(APIView):
    @extend_schema(responses=ExportJobSerializer(many=True))
    def get(self, request, slug):
        competition = get_object_or_404(Competition.objects.visible(), slug=slug)
        jobs = selectors.export_jobs_for_user(competition=competition, user=request.user)
        return Response(ExportJobSerializer(jobs, many=True, context={"request": request}).data)

    @extend_schema(request=ExportJobCreateSerializer, responses={201: ExportJobSerializer, 403: NOT_ALLOWED})
    def post(self, request, slug):
        competition = get_object_or_404(Competition.objects.visible(), slug=slug)
        payload = ExportJobCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        team_slug = payload.validated_data.get("team")
        team = get_object_or_404(Team, slug=team_slug) if team_slug else None
        try:
            job = services.export_job_create(
                competition=competition,
                requested_by=request.user,
                scope=payload.validated_data["scope"],
                fmt=payload.validated_data["format"],
                team=team,
            )
        except services.ExportNotAllowed as exc:
            raise PermissionDenied(str(exc)) from exc
        return Response(ExportJobSerializer(job, context={"request": request}).data, status=status.HTTP_201_CREATED)


class ExportJobApi(APIView):
    @extend_schema(responses=ExportJobSerializer)
    def get(self, request, public_id):
        job = _visible_job(request, public_id)
        return Response(ExportJobSerializer(job, context={"request": request}).data)


class ExportDownloadApi(APIView):
    @extend_schema(responses={(200, "application/zip"): bytes, 409: NOT_READY})
    def get(self, request, public_id):
        job = _visible_job(request, public_id)
        if not job.is_downloadable:
            body = error_body(code="not_ready", detail=f"The export is {job.status}.")
            return Response(body, status=status.HTTP_409_CONFLICT)
        return FileResponse(job.file.open("rb"), as_attachment=True, filename=job.download_name)
