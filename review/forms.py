"""Reviewers' forms: a single transcript's verdict, or the choice between two witnesses."""

from django import forms
from django.utils.translation import gettext_lazy as _

SCALE = [(n, str(n)) for n in range(1, 6)]


class SingleReviewForm(forms.Form):
    verdict = forms.ChoiceField(
        label=_("Is the witness a human or a bot?"),
        choices=[("human", _("Human")), ("bot", _("Bot"))],
        widget=forms.RadioSelect,
    )
    confidence = forms.TypedChoiceField(
        label=_("How sure are you? (1 = guessing, 5 = certain)"), choices=SCALE, coerce=int, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label=_("Why? (a sentence is enough)"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class PairwiseReviewForm(forms.Form):
    chosen_side = forms.ChoiceField(
        label=_("Which witness sounds more human?"),
        choices=[("left", _("Witness A (left)")), ("right", _("Witness B (right)"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Why? (a sentence is enough)"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
