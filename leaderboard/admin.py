from django.contrib import admin, messages
from django.db import transaction

from .models import AnalysisPlan, BotDailyScore, BotScore, EvaluatorScore, LeaderboardSnapshot
from .tasks import competition_recompute_task


@admin.register(LeaderboardSnapshot)
class LeaderboardSnapshotAdmin(admin.ModelAdmin):
    list_display = ["competition", "computed_at", "judgments_counted", "excluded_judgments", "plan_sha256"]
    readonly_fields = [field.name for field in LeaderboardSnapshot._meta.fields]
    actions = ["recompute_now"]

    @admin.action(description="Recompute now (e.g. after a suspension in a closed competition)")
    def recompute_now(self, request, queryset):
        for snapshot in queryset:
            transaction.on_commit(lambda cid=snapshot.competition_id: competition_recompute_task.delay(cid))
        messages.success(request, f"Queued {queryset.count()} recompute(s).")

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(BotScore)
class BotScoreAdmin(admin.ModelAdmin):
    list_display = [
        "bot",
        "competition",
        "rank",
        "pass_rate",
        "pass_low",
        "pass_high",
        "judgments",
        "evaluators",
        "verdict",
        "computed_at",
    ]
    list_filter = ["competition"]
    list_select_related = ["bot", "competition"]
    readonly_fields = [field.name for field in BotScore._meta.fields]


@admin.register(BotDailyScore)
class BotDailyScoreAdmin(admin.ModelAdmin):
    list_display = ["bot", "day", "judgments", "pass_rate"]
    list_select_related = ["bot"]


@admin.register(EvaluatorScore)
class EvaluatorScoreAdmin(admin.ModelAdmin):
    list_display = ["user", "competition", "judgments", "exclusion", "flags"]
    list_filter = ["competition", "exclusion"]
    list_select_related = ["user", "competition"]
    raw_id_fields = ["user"]


@admin.register(AnalysisPlan)
class AnalysisPlanAdmin(admin.ModelAdmin):
    """The record of locked plans and their changes: written by the platform only, never edited."""

    list_display = ["competition", "kind", "sha256", "recorded_at"]
    list_filter = ["competition", "kind"]
    readonly_fields = [field.name for field in AnalysisPlan._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
