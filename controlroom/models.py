from django.utils.translation import gettext_lazy as _

from competitions.models import Competition


class ControlRoom(Competition):
    """Proxy of Competition that gives the organizers' control room its own place and permissions in the admin."""

    class Meta:
        proxy = True
        verbose_name = _("Control room")
        verbose_name_plural = _("Control room")
