"""Organizers run transcript review from here: the settings, gold items (mark, approve proposals), strikes."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from . import services
from .models import GoldItem, ReviewSettings, ReviewSnapshot, Strike


@admin.register(ReviewSettings)
class ReviewSettingsAdmin(admin.ModelAdmin):
    list_display = [
        "competition",
        "enabled",
        "reviews_per_transcript",
        "reviews_per_reviewer",
        "pairwise_share",
        "gold_rate",
        "strike_limit",
        "attention_check_every",
        "attention_checks_per_evaluator",
        "progress_link",
    ]
    list_filter = ["enabled"]
    autocomplete_fields = ["competition"]
    filter_horizontal = ["reviewers"]
    actions = ["propose_gold", "recompute"]
    fieldsets = [
        (
            "Transcript review",
            {
                "fields": [
                    "competition",
                    "enabled",
                    "reviewers",
                    "reviews_per_transcript",
                    "reviews_per_reviewer",
                    "pairwise_share",
                    "gold_rate",
                    "strike_limit",
                ]
            },
        ),
        (
            "Attention checks between chats (main leaderboard)",
            {
                "fields": ["attention_check_every", "attention_checks_per_evaluator"],
                "description": "Active single gold items shown to evaluators of the main board between two chats, on "
                "the review page and like any review item, whether or not review is enabled. Failed ones (and failed "
                "gold items on the review page) raise the leaderboard flag 'failed attention checks' (thresholds "
                "gold_min and gold_fail_share in the competition's exclusion rules). Recommended: 2 and 6. Part of "
                "the analysis plan: locked when evaluation opens.",
            },
        ),
    ]

    @admin.display(description="Progress")
    def progress_link(self, review_settings):
        url = reverse("review-progress", kwargs={"slug": review_settings.competition.slug})
        return format_html('<a href="{}">Progress and flagged reviewers</a>', url)

    @admin.action(description="Propose gold items from unanimous reviews")
    def propose_gold(self, request, queryset):
        created = sum(len(services.gold_propose_from_unanimous(competition=s.competition)) for s in queryset)
        self.message_user(request, f"{created} gold items proposed; approve them in Gold items.", messages.SUCCESS)

    @admin.action(description="Recompute the review figures now")
    def recompute(self, request, queryset):
        for review_settings in queryset:
            services.review_recompute(competition_id=review_settings.competition_id)
        self.message_user(request, f"Recomputed {queryset.count()} competitions.", messages.SUCCESS)


@admin.register(GoldItem)
class GoldItemAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "competition",
        "kind",
        "first",
        "second",
        "answer_verdict",
        "answer_conversation",
        "status",
        "source",
    ]
    list_filter = ["status", "source", "kind", "competition"]
    raw_id_fields = ["first", "second", "answer_conversation"]
    actions = ["approve", "retire"]

    @admin.action(description="Approve (mix into review)")
    def approve(self, request, queryset):
        updated = queryset.exclude(status=GoldItem.Status.ACTIVE).update(status=GoldItem.Status.ACTIVE)
        self.message_user(request, f"{updated} gold items approved.", messages.SUCCESS)

    @admin.action(description="Retire (stop mixing in)")
    def retire(self, request, queryset):
        updated = queryset.update(status=GoldItem.Status.RETIRED)
        self.message_user(request, f"{updated} gold items retired.", messages.SUCCESS)


@admin.register(Strike)
class StrikeAdmin(admin.ModelAdmin):
    list_display = ["reviewer", "competition", "expected", "given", "created_at"]
    list_filter = ["competition"]
    search_fields = ["reviewer__username"]
    readonly_fields = ["competition", "reviewer", "assignment", "expected", "given", "created_at"]

    def has_add_permission(self, request):
        return False


@admin.register(ReviewSnapshot)
class ReviewSnapshotAdmin(admin.ModelAdmin):
    list_display = [
        "competition",
        "computed_at",
        "pairwise_counted",
        "single_counted",
        "alpha_verdicts",
        "alpha_pairwise",
    ]
    readonly_fields = [field.name for field in ReviewSnapshot._meta.fields]

    def has_add_permission(self, request):
        return False
