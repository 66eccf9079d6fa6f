"""Organizer tools: the evaluator pool (invite, suspend), flagged messages, reports, chats and judgments."""

from django.contrib import admin, messages
from django.utils import timezone

from chat import services
from chat.models import (
    Conversation,
    Evaluator,
    Game,
    GameRequest,
    GameVerdict,
    Judgment,
    MatchRequest,
    Message,
    Report,
)


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
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["public_id", "competition", "partner_kind", "bot", "status", "end_reason", "last_seq", "started_at"]
    list_filter = ["competition", "status", "partner_kind", "fell_back_to_bot", "end_reason"]
    search_fields = ["public_id", "evaluator_a__username", "evaluator_b__username", "bot__name"]
    raw_id_fields = ["evaluator_a", "evaluator_b", "bot"]
    readonly_fields = ["public_id", "bot_conversation_id", "last_seq", "bot_replied_to_seq", "bot_turn_started_at"]
    inlines = [MessageInline]
    actions = ["end_chats"]

    @admin.action(description="End selected active chats")
    def end_chats(self, request, queryset):
        ended = sum(
            services.conversation_end(conversation=c, reason=Conversation.EndReason.MODERATION)
            for c in queryset.filter(status=Conversation.Status.ACTIVE)
        )
        self.message_user(request, f"Ended {ended} chat(s).", messages.SUCCESS)


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


@admin.register(Judgment)
class JudgmentAdmin(admin.ModelAdmin):
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

    def has_change_permission(self, request, obj=None):
        return False


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
