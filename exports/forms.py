from django import forms
from django.utils.translation import gettext_lazy as _

from exports.models import ExportJob


class ExportRequestForm(forms.Form):
    """The data page's form: "what" is "<scope>:<team slug or empty>", one select for both."""

    format = forms.ChoiceField(label=_("Format"), choices=ExportJob.Format.choices)
    what = forms.CharField(label=_("What"), max_length=120)

    def clean_what(self) -> tuple[str, str]:
        scope, _sep, team = self.cleaned_data["what"].partition(":")
        if scope not in ExportJob.Scope.values:
            raise forms.ValidationError(_("Choose what to export."))
        return scope, team
