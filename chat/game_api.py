"""Three-party games over the API: join the game queue, poll it, give the verdict or the witness's answer.

Thin over chat.services.games; outputs are blind (panes are "left"/"right", never "human"/"bot").
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chat import selectors, services
from chat.api import ERRORS, error_response
from chat.models import Conversation, Game, GameRequest
from chat.serializers import MatchStartInputSerializer
from chat.services import games
from competitions.models import Competition


class PaneSerializer(serializers.Serializer):
    pane = serializers.ChoiceField(choices=["left", "right", "witness"])
    chat_id = serializers.UUIDField()
    ws_path = serializers.CharField(help_text="Websocket path (docs/chat-protocol.md).")


class GameOutputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["waiting", "matched", "idle"])
    game_id = serializers.UUIDField(allow_null=True)
    role = serializers.ChoiceField(choices=["interrogator", "witness"], allow_null=True)
    panes = PaneSerializer(many=True, help_text="Two for the interrogator (left, right), one for the witness.")
    chat_id = serializers.UUIDField(
        allow_null=True, help_text="After the lobby fell back to a two-party chat: that chat's public id."
    )


class GameVerdictInputSerializer(serializers.Serializer):
    picked_side = serializers.ChoiceField(choices=["left", "right"])
    confidence = serializers.IntegerField(min_value=0, max_value=100)
    reason = serializers.CharField(max_length=2000)


class WitnessAnswerInputSerializer(serializers.Serializer):
    effort = serializers.IntegerField(min_value=1, max_value=5)


def _pane(name: str, conversation: Conversation) -> dict:
    return {"pane": name, "chat_id": conversation.public_id, "ws_path": f"/ws/chat/{conversation.public_id}/"}


def game_output(*, state: str, found, user) -> dict:
    output = {"status": state, "game_id": None, "role": None, "panes": [], "chat_id": None}
    if isinstance(found, Game):
        role = found.role_of(user)
        left, right = found.panes()
        panes = [_pane("left", left), _pane("right", right)]
        if role == "witness":
            panes = [_pane("witness", found.human_conversation)]
        output.update(game_id=found.public_id, role=role, panes=panes)
    elif found is not None:
        output["chat_id"] = found.public_id
    return output


class GameStartApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=MatchStartInputSerializer, responses={200: GameOutputSerializer, 403: ERRORS, 409: ERRORS})
    def post(self, request: Request, slug: str) -> Response:
        """Join a competition's three-party game queue and try to start a game at once."""
        competition = get_object_or_404(Competition.objects.evaluating(), slug=slug)
        data = MatchStartInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            game_request = games.game_request_start(
                competition=competition, user=request.user, language=data.validated_data["language"]
            )
        except services.ChatError as error:
            return error_response(error)
        if game_request.status == GameRequest.Status.WAITING:
            return Response(GameOutputSerializer(game_output(state="waiting", found=None, user=request.user)).data)
        state, found = games.game_poll(competition=competition, user=request.user)
        return Response(GameOutputSerializer(game_output(state=state, found=found, user=request.user)).data)


class GameStatusApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: GameOutputSerializer})
    def get(self, request: Request, slug: str) -> Response:
        """Poll the game queue; each poll is also a pairing attempt."""
        competition = get_object_or_404(Competition.objects.evaluating(), slug=slug)
        state, found = games.game_poll(competition=competition, user=request.user)
        return Response(GameOutputSerializer(game_output(state=state, found=found, user=request.user)).data)


def _game(request: Request, public_id) -> Game:
    game = selectors.game_for_participant(public_id=public_id, user=request.user)
    if game is None:
        raise NotFound
    return game


class GameVerdictApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=GameVerdictInputSerializer,
        responses={201: GameVerdictInputSerializer, 400: ERRORS, 409: ERRORS},
    )
    def post(self, request: Request, public_id) -> Response:
        """The interrogator's verdict, once both conversations have ended: which pane held the human."""
        game = _game(request, public_id)
        data = GameVerdictInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            verdict = games.game_verdict_record(game=game, interrogator=request.user, **data.validated_data)
        except services.ChatError as error:
            return error_response(error)
        output = {"picked_side": verdict.picked_side, "confidence": verdict.confidence, "reason": verdict.reason}
        return Response(GameVerdictInputSerializer(output).data, status=status.HTTP_201_CREATED)


class WitnessAnswerApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=WitnessAnswerInputSerializer,
        responses={201: WitnessAnswerInputSerializer, 400: ERRORS, 409: ERRORS},
    )
    def post(self, request: Request, public_id) -> Response:
        """The human witness's rating of the interrogator's effort (1 to 5), once, after the game."""
        game = _game(request, public_id)
        data = WitnessAnswerInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            saved = games.game_witness_answer(game=game, witness=request.user, effort=data.validated_data["effort"])
        except services.ChatError as error:
            return error_response(error)
        if not saved:
            return error_response(services.JudgmentNotAllowed("The answer is already given."))
        return Response({"effort": data.validated_data["effort"]}, status=status.HTTP_201_CREATED)
