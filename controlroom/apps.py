from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ControlroomConfig(AppConfig):
    """The organizers' control room: one admin page per competition with what is happening now and the
    operations to act on it (recompute, pause matchmaking, disable a bot, suspend an evaluator, export)."""

    name = "controlroom"
    verbose_name = _("Control room")
