"""Organizer tools: the evaluator pool (invite, suspend), flagged messages, reports, chats and judgments."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.models import DELETION, LogEntry
from django.template.response import TemplateResponse
from django.utils import timezone

from chat import services
from chat.models import (
    Conversation,
    Evaluator,
    Game,
    GameRequest,
    GameVerdict,
    Judgment,
    JudgmentExclusion,
    MatchRequest,
    Message,
    Report,
)


class ReadOnlyFactsMixin:
    """What happened in a chat and how it was judged is evidence: the admin shows it and never edits it.

    Corrections go through explicit, logged actions (end a chat, exclude a judgment with a reason).
    """

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Evaluator)
class EvaluatorAdmin(admin.ModelAdmin):
    list_display = ["user", "competition", "status", "consented_at", "onboarding_passed_at", "onboarding_failures"]
    list_filter = ["competition", "status"]
    search_fields = ["user__username", "user__email"]
    autocomplete_fields = ["user"]
    actions = ["suspend", "reinstate"]

    def get_changeform_initial_data(self, request):
        """New rows added by organizers are invitations."""
        return {"status": Evaluator.Status.INVITED, **super().get_changeform_initial_data(request)}

    @admin.action(description="Suspend selected evaluators (ends their chats)")
    def suspend(self, request, queryset):
        for evaluator in queryset:
            services.evaluator_suspend(evaluator=evaluator, reason=f"Suspended by {request.user.username}")
        self.message_user(request, f"Suspended {queryset.count()} evaluator(s).", messages.SUCCESS)

    @admin.action(description="Reinstate selected evaluators")
    def reinstate(self, request, queryset):
        for evaluator in queryset:
            services.evaluator_reinstate(evaluator=evaluator)
        self.message_user(request, f"Reinstated {queryset.count()} evaluator(s).", messages.SUCCESS)


@admin.register(MatchRequest)
class MatchRequestAdmin(admin.ModelAdmin):
    list_display = ["user", "competition", "language", "wants_human", "status", "created_at", "matched_at"]
    list_filter = ["competition", "status", "wants_human"]
    raw_id_fields = ["user", "conversation"]


class MessageInline(admin.TabularInline):
    model = Message
    fields = ["seq", "side", "text", "delivered_text", "flagged", "moderation_labels", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyFactsMixin, admin.ModelAdmin):
    list_display = ["public_id", "competition", "partner_kind", "bot", "status", "end_reason", "last_seq", "started_at"]
    list_filter = ["competition", "status", "partner_kind", "fell_back_to_bot", "end_reason"]
    search_fields = ["public_id", "evaluator_a__username", "evaluator_b__username", "bot__name"]
    raw_id_fields = ["evaluator_a", "evaluator_b", "bot"]
    readonly_fields = ["public_id", "bot_conversation_id", "last_seq", "bot_replied_to_seq", "bot_turn_started_at"]
    inlines = [MessageInline]
    actions = ["end_chats"]

    @admin.action(description="End selected active chats")
    def end_chats(self, request, queryset):
        ended = [
            c
            for c in queryset.filter(status=Conversation.Status.ACTIVE)
            if services.conversation_end(conversation=c, reason=Conversation.EndReason.MODERATION)
        ]
        for conversation in ended:
            self.log_change(request, conversation, f"Ended by an organizer ({request.user.username}).")
        self.message_user(request, f"Ended {len(ended)} chat(s).", messages.SUCCESS)


class FlaggedFilter(admin.SimpleListFilter):
    """Opens on flagged messages: what organizers come here to review."""

    title = "flagged"
    parameter_name = "flagged"

    def lookups(self, request, model_admin):
        return [("yes", "Flagged"), ("no", "Not flagged"), ("all", "All")]

    def choices(self, changelist):
        value = self.value() or "yes"
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or "yes"
        if value == "all":
            return queryset
        return queryset.filter(flagged=value == "yes")


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = [
        "conversation",
        "seq",
        "side",
        "text",
        "delivered_text",
        "flagged",
        "moderation_labels",
        "created_at",
    ]
    list_filter = [FlaggedFilter, "conversation__competition", "side"]
    search_fields = ["text", "conversation__public_id"]
    raw_id_fields = ["conversation", "author"]
    readonly_fields = ["conversation", "seq", "side", "author", "client_msg_id", "created_at", "bot_latency_ms"]


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ["conversation", "reporter", "reason", "created_at", "resolved_at"]
    list_filter = [("resolved_at", admin.EmptyFieldListFilter), "conversation__competition"]
    raw_id_fields = ["conversation", "reporter"]
    actions = ["mark_resolved"]

    @admin.action(description="Mark selected reports resolved")
    def mark_resolved(self, request, queryset):
        count = queryset.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())
        self.message_user(request, f"Resolved {count} report(s).", messages.SUCCESS)


class ExclusionForm(forms.Form):
    reason = forms.CharField(
        label="Why are these judgments excluded?",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        max_length=2000,
        help_text="Kept with each exclusion and shown in the exclusions log.",
    )


@admin.register(Judgment)
class JudgmentAdmin(ReadOnlyFactsMixin, admin.ModelAdmin):
    list_display = [
        "conversation",
        "evaluator",
        "competition",
        "bot",
        "partner_kind",
        "verdict",
        "confidence",
        "created_at",
    ]
    list_filter = ["competition", "partner_kind", "verdict"]
    raw_id_fields = ["conversation", "evaluator", "bot"]
    actions = ["exclude_judgments"]

    def get_actions(self, request):
        # Deleting (the default action) would change results without a trace: excluding is the way.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Exclude selected judgments from the results (asks for a reason)")
    def exclude_judgments(self, request, queryset):
        form = ExclusionForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            judgments = list(queryset)
            for judgment in judgments:
                exclusion = services.judgment_exclude(
                    judgment=judgment, reason=form.cleaned_data["reason"], excluded_by=request.user
                )
                LogEntry.objects.log_actions(
                    user_id=request.user.pk,
                    queryset=[judgment],
                    action_flag=DELETION,
                    change_message=f"Excluded from the results: {exclusion.reason}",
                    single_object=True,
                )
            self.message_user(request, f"Excluded {len(judgments)} judgment(s).", messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            "admin/chat/judgment/exclude.html",
            {
                **self.admin_site.each_context(request),
                "title": "Exclude judgments from the results",
                "judgments": queryset,
                "form": form,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "opts": self.model._meta,
            },
        )


@admin.register(JudgmentExclusion)
class JudgmentExclusionAdmin(ReadOnlyFactsMixin, admin.ModelAdmin):
    """The log of excluded judgments: who took which judgment out of the results, when and why."""

    list_display = ["conversation", "evaluator", "competition", "excluded_by", "excluded_at", "reason"]
    list_filter = ["competition"]
    search_fields = ["reason", "evaluator__username", "conversation__public_id"]


@admin.register(GameRequest)
class GameRequestAdmin(admin.ModelAdmin):
    list_display = ["user", "competition", "language", "status", "created_at", "matched_at"]
    list_filter = ["competition", "status"]
    raw_id_fields = ["user", "game"]


class GameLiveFilter(admin.SimpleListFilter):
    title = "clock"
    parameter_name = "live"

    def lookups(self, request, model_admin):
        return [("yes", "Live"), ("no", "Ended")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.live()
        if self.value() == "no":
            return queryset.exclude(pk__in=queryset.live().values("pk"))
        return queryset


class GameVerdictInline(admin.StackedInline):
    model = GameVerdict
    extra = 0
    can_delete = False
    readonly_fields = ["picked_side", "bot_picked_as_human", "confidence", "reason", "interrogator", "created_at"]
    exclude = ["competition", "bot"]


@admin.register(Game)
class GameAdmin(admin.ModelAdmin):
    """Three-party games; "live" lists those whose clock still runs."""

    list_display = ["public_id", "competition", "bot", "interrogator", "witness", "started_at", "deadline_at", "state"]
    list_filter = ["competition", GameLiveFilter]
    raw_id_fields = ["interrogator", "witness", "bot", "human_conversation", "bot_conversation"]
    list_select_related = ["competition", "bot", "interrogator", "witness", "human_conversation", "bot_conversation"]
    readonly_fields = ["public_id", "human_on_left", "started_at", "deadline_at", "witness_effort"]
    inlines = [GameVerdictInline]

    @admin.display(description="State")
    def state(self, game: Game) -> str:
        if hasattr(game, "verdict"):
            return "decided"
        return "live" if game.seconds_left() > 0 and not game.is_over else "ended"
