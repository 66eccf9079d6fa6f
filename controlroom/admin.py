"""The control room's place in the admin: the competitions, each opening its room (controlroom.views)."""

from functools import partial

from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from controlroom.models import ControlRoom
from controlroom.views import control_room_action, control_room_view


@admin.register(ControlRoom)
class ControlRoomAdmin(admin.ModelAdmin):
    """Lists competitions; each opens its control room at /admin/controlroom/controlroom/<id>/room/."""

    list_display = ["title", "slug", "phase", "matchmaking_paused", "open_room"]
    list_filter = ["phase"]
    search_fields = ["title", "slug"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Control room"))
    def open_room(self, competition) -> str:
        url = reverse("admin:controlroom_controlroom_room", args=[competition.pk])
        return format_html('<a href="{}">{}</a>', url, _("Open"))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("admin:controlroom_controlroom_room", args=[object_id]))

    def get_urls(self):
        room = self.admin_site.admin_view(partial(control_room_view, self))
        act = self.admin_site.admin_view(partial(control_room_action, self))
        return [
            path("<int:competition_id>/room/", room, name="controlroom_controlroom_room"),
            path("<int:competition_id>/room/action/", act, name="controlroom_controlroom_action"),
            *super().get_urls(),
        ]
