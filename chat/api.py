"""Evaluators' API: start a chat, poll the match, judge. Thin views over chat.services; outputs are blind."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chat import selectors, services
from chat.models import MatchRequest
from chat.serializers import (
    JudgmentInputSerializer,
    JudgmentOutputSerializer,
    MatchOutputSerializer,
    MatchStartInputSerializer,
)
from competitions.models import Competition
from hulic.api_errors import ApiErrorSerializer, error_body

ERROR_STATUS = {
    "not_invited": status.HTTP_403_FORBIDDEN,
    "suspended": status.HTTP_403_FORBIDDEN,
    "judgment_invalid": status.HTTP_400_BAD_REQUEST,
}
ERRORS = OpenApiResponse(ApiErrorSerializer, description="A rule was broken; `code` says which.")


def error_response(error: services.ChatError) -> Response:
    body = error_body(code=error.code, detail=str(error))
    conversation = getattr(error, "conversation", None)
    if conversation is not None:
        body["chat_id"] = str(conversation.public_id)
    return Response(body, status=ERROR_STATUS.get(error.code, status.HTTP_409_CONFLICT))


def match_output(*, state: str, conversation=None, reason: str = "") -> dict:
    if conversation is None:
        return {"status": state, "chat_id": None, "ws_path": None, "reason": reason or None}
    return {
        "status": state,
        "chat_id": conversation.public_id,
        "ws_path": f"/ws/chat/{conversation.public_id}/",
        "reason": None,
    }


class MatchStartApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=MatchStartInputSerializer, responses={200: MatchOutputSerializer, 403: ERRORS, 409: ERRORS})
    def post(self, request: Request, slug: str) -> Response:
        """Join the queue of a competition in evaluation and try to pair at once (consent and onboarding first)."""
        competition = get_object_or_404(Competition.objects.evaluating(), slug=slug)
        data = MatchStartInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            match = services.match_request_start(
                competition=competition, user=request.user, language=data.validated_data["language"]
            )
        except services.ChatError as error:
            return error_response(error)
        if match.status == MatchRequest.Status.MATCHED:
            return Response(MatchOutputSerializer(match_output(state="matched", conversation=match.conversation)).data)
        return Response(MatchOutputSerializer(match_output(state="waiting")).data)


class MatchStatusApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: MatchOutputSerializer})
    def get(self, request: Request, slug: str) -> Response:
        """Poll the match; each poll is also a pairing attempt."""
        competition = get_object_or_404(Competition.objects.evaluating(), slug=slug)
        state, conversation = services.match_poll(competition=competition, user=request.user)
        reason = services.match_unavailable_reason(competition=competition, user=request.user)
        output = match_output(state=state, conversation=conversation, reason=reason if state == "unavailable" else "")
        return Response(MatchOutputSerializer(output).data)


class JudgmentCreateApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=JudgmentInputSerializer, responses={201: JudgmentOutputSerializer, 400: ERRORS, 409: ERRORS})
    def post(self, request: Request, public_id) -> Response:
        """Judge an ended chat: once, final; the answer reveals the partner if the competition says so."""
        conversation = selectors.conversation_for_participant(public_id=public_id, user=request.user)
        if conversation is None:
            raise NotFound
        data = JudgmentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            judgment = services.judgment_record(
                conversation=conversation, evaluator=request.user, **data.validated_data
            )
        except services.ChatError as error:
            return error_response(error)
        reveal = conversation.competition.reveal_partner_after_judgment
        output = {
            "verdict": judgment.verdict,
            "confidence": judgment.confidence,
            "ratings": judgment.ratings,
            "reason": judgment.reason,
            "partner_kind": judgment.partner_kind if reveal else None,
        }
        return Response(JudgmentOutputSerializer(output).data, status=status.HTTP_201_CREATED)
