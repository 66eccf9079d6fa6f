"""The competition's admin form: languages, criteria and onboarding questions as structured, validated fields,
each with its English and Korean text side by side, instead of raw JSON.

The model keeps storing JSON (criteria ``[{"key", "label", "label_ko"}]``, onboarding questions
``[{"question", "question_ko", "choices", "choices_ko", "answer"}]``); this form reads and writes it.
"""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import SUPPORTED_LANGUAGES, Competition

KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
LANGUAGE_NAMES = {"en": "English", "ko": "한국어"}


def criteria_as_text(criteria: list[dict]) -> str:
    lines = []
    for criterion in criteria or []:
        parts = [criterion.get("key", ""), criterion.get("label", "")]
        if criterion.get("label_ko"):
            parts.append(criterion["label_ko"])
        lines.append(" | ".join(parts))
    return "\n".join(lines)


def criteria_from_text(text: str) -> list[dict]:
    criteria, errors, seen = [], [], set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")]
        if len(parts) not in (2, 3) or not parts[1]:
            errors.append(_("Line %(n)s: write “key | English label | Korean label”.") % {"n": number})
            continue
        key = parts[0]
        if not KEY.match(key):
            errors.append(_("Line %(n)s: a key is lower-case letters, digits and _.") % {"n": number})
            continue
        if key in seen:
            errors.append(_("Line %(n)s: the key “%(key)s” is used twice.") % {"n": number, "key": key})
            continue
        seen.add(key)
        criterion = {"key": key, "label": parts[1]}
        if len(parts) == 3 and parts[2]:
            criterion["label_ko"] = parts[2]
        criteria.append(criterion)
    if errors:
        raise forms.ValidationError(errors)
    if not criteria:
        raise forms.ValidationError(_("Give at least one criterion."))
    return criteria


def _pair(line: str) -> tuple[str, str]:
    english, _bar, korean = line.partition("|")
    return english.strip(), korean.strip()


def questions_as_text(questions: list[dict]) -> str:
    blocks = []
    for question in questions or []:
        lines = [_join(question.get("question", ""), question.get("question_ko", ""))]
        korean = question.get("choices_ko") or []
        for index, choice in enumerate(question.get("choices", [])):
            mark = "*" if index == question.get("answer") else "-"
            lines.append(f"{mark} {_join(choice, korean[index] if index < len(korean) else '')}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _join(english: str, korean: str) -> str:
    return f"{english} | {korean}" if korean else english


def questions_from_text(text: str) -> list[dict]:
    questions, errors = [], []
    blocks = [block for block in re.split(r"\n\s*\n", text.strip()) if block.strip()]
    for number, block in enumerate(blocks, start=1):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        question, question_ko = _pair(lines[0])
        choices, choices_ko, answers = [], [], []
        for line in lines[1:]:
            if line[0] not in "*-":
                errors.append(_("Question %(n)s: start each choice with “*” (right) or “-”.") % {"n": number})
                break
            if line[0] == "*":
                answers.append(len(choices))
            english, korean = _pair(line[1:])
            choices.append(english)
            choices_ko.append(korean)
        else:
            if not question or question[0] in "*-":
                errors.append(_("Question %(n)s: its first line is the question.") % {"n": number})
            elif len(choices) < 2 or not all(choices):
                errors.append(_("Question %(n)s: give at least two choices.") % {"n": number})
            elif len(answers) != 1:
                errors.append(_("Question %(n)s: mark exactly one choice as right with “*”.") % {"n": number})
            else:
                item = {"question": question, "choices": choices, "answer": answers[0]}
                if question_ko:
                    item["question_ko"] = question_ko
                if any(choices_ko):
                    item["choices_ko"] = choices_ko
                questions.append(item)
    if errors:
        raise forms.ValidationError(errors)
    return questions


class CompetitionAdminForm(forms.ModelForm):
    languages = forms.MultipleChoiceField(
        label=_("Chat languages"),
        choices=[(code, LANGUAGE_NAMES.get(code, code)) for code in SUPPORTED_LANGUAGES],
        widget=forms.CheckboxSelectMultiple,
    )
    criteria = forms.CharField(
        label=_("Rating criteria"),
        widget=forms.Textarea(attrs={"rows": 5, "cols": 90}),
        help_text=_(
            "One per line: key | English label | Korean label (optional; English is shown where it is empty). "
            "Keys are stored with every judgment: do not rename them once judging has begun."
        ),
    )
    onboarding_questions = forms.CharField(
        label=_("Onboarding questions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 10, "cols": 90}),
        help_text=_(
            "Questions separated by an empty line. First line: the question | its Korean version. Then one line "
            "per choice: “* ” for the right one, “- ” for the others, each as English | Korean."
        ),
    )

    class Meta:
        model = Competition
        fields = "__all__"  # noqa: DJ007 - the admin's fieldsets choose and order them

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["criteria"] = criteria_as_text(self.initial.get("criteria") or self.instance.criteria)
            questions = self.initial.get("onboarding_questions")
            self.initial["onboarding_questions"] = questions_as_text(
                questions if questions is not None else self.instance.onboarding_questions
            )

    def clean_criteria(self) -> list[dict]:
        return criteria_from_text(self.cleaned_data["criteria"])

    def clean_onboarding_questions(self) -> list[dict]:
        return questions_from_text(self.cleaned_data["onboarding_questions"])
