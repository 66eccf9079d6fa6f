"""Forms for team and bot pages. They only parse input; the rules live in competitions.services."""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _

from .models import Bot, Team
from .selectors import competitions_accepting_bots
from .services import CompetitionsError, endpoint_url_check


def endpoint_url_validate(value: str) -> None:
    try:
        endpoint_url_check(value)
    except CompetitionsError as exc:
        raise forms.ValidationError(exc.message) from exc


class TeamCreateForm(forms.Form):
    name = forms.CharField(label=_("Team name"), max_length=Team._meta.get_field("name").max_length)


class InvitationCreateForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail (optional, for your own records)"),
        required=False,
        help_text=_("We do not send e-mail: share the link yourself."),
    )


class BotRegisterForm(forms.Form):
    competition = forms.ModelChoiceField(
        label=_("Competition"), queryset=competitions_accepting_bots(), empty_label=None, to_field_name="slug"
    )
    name = forms.CharField(label=_("Bot name"), max_length=Bot._meta.get_field("name").max_length)
    endpoint_url = forms.URLField(
        label=_("Endpoint URL"),
        max_length=Bot._meta.get_field("endpoint_url").max_length,
        assume_scheme="https",
        validators=[endpoint_url_validate],
        help_text=_("We POST each chat turn here, signed with your bot's secret."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["competition"].queryset = competitions_accepting_bots()


class BotEndpointForm(forms.Form):
    endpoint_url = forms.URLField(
        label=_("New endpoint URL"),
        max_length=Bot._meta.get_field("endpoint_url").max_length,
        assume_scheme="https",
        validators=[endpoint_url_validate],
    )
    note = forms.CharField(label=_("Note (what changed)"), max_length=200, required=False)


class SignUpForm(UserCreationForm):
    """Sign-up with an e-mail address, which password resets are sent to."""

    email = forms.EmailField(
        label=_("E-mail"),
        help_text=_("Only for resetting your password. Never shown to others or released."),
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                _("An account with this e-mail address exists already. Log in, or reset its password.")
            )
        return email
