"""Evaluator forms: onboarding check questions, the judgment, a report."""

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from chat.models import Judgment
from competitions.translated import localized, localized_choices

SCALE = [(n, str(n)) for n in range(1, 6)]


class OnboardingForm(forms.Form):
    """One required radio group per check question of the competition."""

    def __init__(self, *args, questions: list[dict], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        language = get_language()
        for index, question in enumerate(questions):
            self.fields[f"q{index}"] = forms.TypedChoiceField(
                label=localized(question, "question", language),
                choices=list(enumerate(localized_choices(question, language))),
                coerce=int,
                widget=forms.RadioSelect,
            )

    def answers(self) -> list[int]:
        return [self.cleaned_data[name] for name in self.fields]


class JudgmentForm(forms.Form):
    verdict = forms.ChoiceField(
        label=_("Was your partner a human or a bot?"),
        choices=[(Judgment.Verdict.HUMAN, _("Human")), (Judgment.Verdict.BOT, _("Bot"))],
        widget=forms.RadioSelect,
    )
    confidence = forms.TypedChoiceField(
        label=_("How sure are you? (1 = guessing, 5 = certain)"), choices=SCALE, coerce=int, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label=_("Why? (a sentence is enough)"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )

    def __init__(self, *args, criteria: list[dict], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.criteria_keys = [criterion["key"] for criterion in criteria]
        reason = self.fields.pop("reason")
        for criterion in criteria:
            self.fields[f"rating_{criterion['key']}"] = forms.TypedChoiceField(
                label=localized(criterion, "label", get_language()) or criterion["key"],
                choices=SCALE,
                coerce=int,
                widget=forms.RadioSelect,
            )
        self.fields["reason"] = reason

    def ratings(self) -> dict[str, int]:
        return {key: self.cleaned_data[f"rating_{key}"] for key in self.criteria_keys}

    def rating_fields(self):
        return [self[f"rating_{key}"] for key in self.criteria_keys]


class ReportForm(forms.Form):
    reason = forms.CharField(
        label=_("What happened?"), widget=forms.Textarea(attrs={"rows": 3, "id": "report-reason"}), max_length=2000
    )


class GameVerdictForm(forms.Form):
    """The interrogator's three-party verdict: which pane held the human, how sure, and why."""

    picked_side = forms.ChoiceField(
        label=_("Which witness is the human?"),
        choices=[("left", _("Left")), ("right", _("Right"))],
        widget=forms.RadioSelect,
    )
    confidence = forms.IntegerField(label=_("How confident are you? (0 to 100)"), min_value=0, max_value=100)
    reason = forms.CharField(label=_("Why?"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class WitnessAnswerForm(forms.Form):
    """The human witness's one question about the interrogator."""

    effort = forms.TypedChoiceField(
        label=_("How much effort did the interrogator put into the conversation?"),
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
        help_text=_("1: hardly any, 5: a lot."),
    )
