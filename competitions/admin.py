"""Organizers' admin: competitions, teams and bots with their health.

Actions that change state go through competitions.services, the same rules as the pages and the API.
"""

from django.contrib import admin, messages
from django.db import models
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import selectors, services
from .admin_forms import CompetitionAdminForm
from .forms import endpoint_url_validate
from .health import bot_health_check
from .models import Bot, BotCall, BotVersion, Competition, Team, TeamInvitation, TeamMembership

STATUS_COLOURS = {
    Bot.Status.VERIFIED: "#2e7d32",
    Bot.Status.PENDING: "#8a6d00",
    Bot.Status.FAILING: "#c62828",
    Bot.Status.DISABLED: "#5c6475",
}


SYNC_HEALTH_CHECK_LIMIT = 5

# Django 6 changes the URL fields' default scheme; endpoints are https unless they say otherwise.
URL_FIELD_OVERRIDES = {models.URLField: {"assume_scheme": "https"}}


def admin_link(obj, label=None) -> str:
    if obj is None:
        return "—"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label or str(obj))


def status_badge(bot: Bot) -> str:
    return format_html(
        '<strong style="color:{}">{}</strong>', STATUS_COLOURS.get(bot.status, "inherit"), bot.get_status_display()
    )


# Competitions


# Help for the competition settings whose model fields carry none; set here so no migration is needed.
COMPETITION_HELP = {
    "slug": _("The address of the public page: /competitions/<slug>/."),
    "registration_opens_at": _("Shown on the public page. Filled in when the phase advances, if empty."),
    "evaluation_opens_at": _("Shown on the public page. Filled in when the phase advances, if empty."),
    "evaluation_closes_at": _("Shown on the public page. Filled in when the competition closes, if empty."),
    "max_message_chars": _("Message length limit in a chat, in characters."),
    "max_chats_per_evaluator_per_bot": _("So that no evaluator's taste dominates one bot's score."),
    "matchmaking_paused": _("Pause the start of new chats, e.g. during an incident."),
    "evaluator_pool": _("Open: anyone signed in may evaluate. By invitation: only invited evaluators."),
    "reveal_partner_after_judgment": _("Tell evaluators after their verdict whether it was a bot or a human."),
    "equivalence_margin": _(
        "A bot within this many points (0.10 = 10 points) of the human baseline is called indistinguishable when "
        "the equivalence test says so. Set it before evaluation opens: the analysis plan is locked then."
    ),
    "min_judgments_to_rank": _("A bot is ranked and compared with the human baseline once it has this many judgments."),
    "exclusion_rules": _(
        "Which response patterns exclude an evaluator (same verdict, straight-lined ratings, judging in seconds, "
        "silent chats, verdicts against own ratings, failed attention checks) and their thresholds. Attention checks "
        "are transcript review's gold items, met between chats (Review settings: attention checks) or on the review "
        "page. Declared before evaluation opens; later changes are logged and shown."
    ),
    "leaderboard_public_during_evaluation": _(
        "Off: only organizers see the leaderboard until the competition closes, so teams cannot tune to it."
    ),
    "leaderboard_publication_hours": _(
        "While public before closing, the leaderboard shows numbers published on this schedule (UTC), never live "
        "ones: live numbers would tell an evaluator who their last partner was. Organizers always see live numbers."
    ),
    "max_chats_per_evaluator": _(
        "Chats of either kind per evaluator. Whatever you set, an evaluator stops after at most the number of bots "
        "times the per-bot limit, counting control chats too, so running out never tells what the last partner was."
    ),
    "participant_downloads": _("What teams may download while and after the competition runs."),
    "show_example_chats_to_teams": _("Let teams read example chats of their own bots."),
    "include_bot_names_in_exports": _("Off: exports leave out bot and team names."),
    "leaderboard_bots_per_team": _(
        "The public leaderboard shows at most this many bots per team (the best placed) and only bots that have "
        "passed a health check; organizers see every bot. 0: no cap."
    ),
}


@admin.register(Competition)
class CompetitionAdmin(admin.ModelAdmin):
    form = CompetitionAdminForm
    # Few enough columns that the control room link, second, is never clipped at 1,280 px.
    list_display = [
        "title",
        "control_room_link",
        "phase",
        "evaluation_closes_at",
        "bots_link",
        "live_bots",
        "matchmaking_paused",
        "view_on_site_link",
    ]
    list_filter = ["phase", "matchmaking_paused", "evaluator_pool", "dataset_published"]
    search_fields = ["title", "slug"]
    date_hierarchy = "created_at"
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["created_at", "updated_at"]
    actions = ["advance_phase"]
    save_on_top = True
    fieldsets = [
        (None, {"fields": ["title", "slug", "languages"]}),
        (
            _("Phase and dates"),
            {
                "fields": ["phase", "registration_opens_at", "evaluation_opens_at", "evaluation_closes_at"],
                "description": _(
                    "Phases go draft → registration → evaluation → closed. Drafts are hidden from the public. "
                    "Use the “Advance to the next phase” action on the list page to move on; it stamps empty dates."
                ),
            },
        ),
        (
            _("Texts (Markdown)"),
            {
                # English and Korean side by side; an empty Korean text shows the English one.
                "fields": [("description", "description_ko"), ("rules", "rules_ko"), ("terms", "terms_ko"), "license"],
                "description": _(
                    "Rendered as sanitised Markdown on the public page; HTML scripts are removed. Each text has an "
                    "English and a Korean version, shown in the reader's language (English where Korean is empty)."
                ),
            },
        ),
        (
            _("Chats"),
            {
                "fields": [
                    "chat_time_limit_seconds",
                    "max_turns",
                    "min_turns_to_count",
                    "max_message_chars",
                    "control_chat_share",
                    "human_partner_wait_seconds",
                    "max_chats_per_evaluator_per_bot",
                    "max_chats_per_evaluator",
                    "matchmaking_paused",
                ],
                "description": _("How each blind chat runs and how chats are assigned."),
            },
        ),
        (
            _("Judging and evaluators"),
            {
                "fields": [
                    "criteria",
                    "onboarding_questions",
                    "evaluator_pool",
                    "reveal_partner_after_judgment",
                ],
            },
        ),
        (
            _("Analysis plan"),
            {
                "fields": ["equivalence_margin", "min_judgments_to_rank", "exclusion_rules"],
                "description": _(
                    "The statistical settings, with the minimum chat length above. They are locked and published "
                    "with a hash when evaluation opens; any later change is logged and shown on the public page."
                ),
            },
        ),
        (
            _("Results, privacy and downloads"),
            {
                "fields": [
                    "leaderboard_public_during_evaluation",
                    "leaderboard_publication_hours",
                    "leaderboard_bots_per_team",
                    "participant_downloads",
                    "show_example_chats_to_teams",
                    "include_bot_names_in_exports",
                    "dataset_published",
                ],
            },
        ),
        (_("Record"), {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None and db_field.name in COMPETITION_HELP:
            formfield.help_text = COMPETITION_HELP[db_field.name]
        return formfield

    def save_model(self, request, obj, form, change):
        """Record a change of the analysis plan made after evaluation opened (it is shown on the public page)."""
        from leaderboard.services import analysis_plan_record

        super().save_model(request, obj, form, change)
        analysis_plan_record(competition=obj)

    def get_readonly_fields(self, request, obj=None):
        # Phases change only through the ordered action, so a slip of the dropdown cannot reopen a closed one.
        if obj is not None:
            return [*self.readonly_fields, "phase"]
        return self.readonly_fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                bot_count=Count("bots", distinct=True),
                live_bot_count=Count("bots", filter=Q(bots__status=Bot.Status.VERIFIED), distinct=True),
            )
        )

    @admin.display(description=_("Bots"), ordering="bot_count")
    def bots_link(self, competition):
        url = reverse("admin:competitions_bot_changelist") + f"?competition__id__exact={competition.pk}"
        return format_html('<a href="{}">{}</a>', url, competition.bot_count)

    @admin.display(description=_("Live"), ordering="live_bot_count")
    def live_bots(self, competition):
        return competition.live_bot_count

    @admin.display(description=_("Control room"))
    def control_room_link(self, competition):
        url = reverse("admin:controlroom_controlroom_room", args=[competition.pk])
        return format_html('<a href="{}">{}</a>', url, _("open"))

    @admin.display(description=_("Public page"))
    def view_on_site_link(self, competition):
        return format_html('<a href="{}">{}</a>', competition.get_absolute_url(), _("view"))

    @admin.action(description=_("Advance to the next phase"))
    def advance_phase(self, request, queryset):
        for competition in queryset:
            try:
                services.competition_advance_phase(competition=competition)
            except services.CompetitionsError as exc:
                self.message_user(request, f"{competition}: {exc.message}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("%(competition)s is now in phase “%(phase)s”.")
                    % {"competition": competition, "phase": competition.get_phase_display()},
                    messages.SUCCESS,
                )


# Teams


class TeamMembershipInline(admin.TabularInline):
    model = TeamMembership
    extra = 0
    autocomplete_fields = ["user"]
    readonly_fields = ["joined_at"]


class TeamBotInline(admin.TabularInline):
    model = Bot
    formfield_overrides = URL_FIELD_OVERRIDES
    extra = 0
    fields = ["bot_link", "competition", "status_display", "version", "last_checked_at", "consecutive_failures"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Bot"))
    def bot_link(self, bot):
        return admin_link(bot, bot.name)

    @admin.display(description=_("Status"))
    def status_display(self, bot):
        return status_badge(bot)


class TeamInvitationInline(admin.TabularInline):
    model = TeamInvitation
    extra = 0
    fields = ["email", "invited_by", "created_at", "expires_at", "accepted_by", "accepted_at"]
    readonly_fields = fields
    can_delete = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "member_count", "bot_count", "created_at"]
    search_fields = ["name", "slug", "members__username", "members__email"]
    date_hierarchy = "created_at"
    prepopulated_fields = {"slug": ["name"]}
    inlines = [TeamMembershipInline, TeamBotInline, TeamInvitationInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(member_total=Count("memberships", distinct=True), bot_total=Count("bots", distinct=True))
        )

    @admin.display(description=_("Members"), ordering="member_total")
    def member_count(self, team):
        return team.member_total

    @admin.display(description=_("Bots"), ordering="bot_total")
    def bot_count(self, team):
        url = reverse("admin:competitions_bot_changelist") + f"?team__id__exact={team.pk}"
        return format_html('<a href="{}">{}</a>', url, team.bot_total)


# Bots


class BotVersionInline(admin.TabularInline):
    model = BotVersion
    formfield_overrides = URL_FIELD_OVERRIDES
    extra = 0
    fields = ["number", "endpoint_url", "note", "created_by", "created_at"]
    readonly_fields = fields
    can_delete = False
    ordering = ["-number"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Bot)
class BotAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "team_link",
        "competition_link",
        "status_display",
        "version",
        "last_checked_at",
        "latency",
        "consecutive_failures",
        "short_failure_reason",
        "is_baseline",
    ]
    list_filter = ["status", "competition", "is_baseline"]
    search_fields = ["name", "team__name", "endpoint_url", "competition__title"]
    list_select_related = ["team", "competition"]
    date_hierarchy = "created_at"
    autocomplete_fields = ["team", "competition"]
    actions = ["health_check_now", "disable_bots", "enable_bots", "rotate_secrets"]
    inlines = [BotVersionInline]
    # The services' rules for endpoints, so the admin refuses what the pages and the API refuse.
    formfield_overrides = {models.URLField: {"assume_scheme": "https", "validators": [endpoint_url_validate]}}
    health_fields = [
        "status",
        "version",
        "last_checked_at",
        "latency",
        "consecutive_failures",
        "last_failure_reason",
        "recent_calls",
    ]
    readonly_fields = [*health_fields, "signing_secret", "secret_rotated_at", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "team", "competition", "endpoint_url", "is_baseline"]}),
        (
            _("Health"),
            {
                "fields": health_fields,
                "description": _(
                    "Kept up to date by health checks and chat turns. Use the list actions to check now, "
                    "disable or enable. Changing the endpoint here records a new version and re-checks the bot."
                ),
            },
        ),
        (_("Signing secret"), {"fields": ["signing_secret", "secret_rotated_at"], "classes": ["collapse"]}),
        (_("Record"), {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    @admin.display(description=_("Team"), ordering="team__name")
    def team_link(self, bot):
        return admin_link(bot.team)

    @admin.display(description=_("Competition"), ordering="competition__title")
    def competition_link(self, bot):
        return admin_link(bot.competition)

    @admin.display(description=_("Status"), ordering="status")
    def status_display(self, bot):
        return status_badge(bot)

    @admin.display(description=_("Latency"), ordering="last_latency_ms")
    def latency(self, bot):
        return "—" if bot.last_latency_ms is None else f"{bot.last_latency_ms:.0f} ms"

    @admin.display(description=_("Last failure"))
    def short_failure_reason(self, bot):
        reason = bot.last_failure_reason
        return reason if len(reason) <= 80 else reason[:79] + "…"

    @admin.display(description=_("Recent calls"))
    def recent_calls(self, bot):
        calls = selectors.bot_recent_calls(bot=bot)
        if not calls:
            return _("No calls yet.")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    call.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                    call.get_purpose_display(),
                    _("OK") if call.ok else call.get_failure_kind_display(),
                    "—" if call.latency_ms is None else f"{call.latency_ms:.0f} ms",
                    call.status_code or "—",
                    call.detail,
                )
                for call in calls
            ),
        )
        calls_url = reverse("admin:competitions_botcall_changelist") + f"?bot__id__exact={bot.pk}"
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            '<tbody>{}</tbody></table><p><a href="{}">{}</a></p>',
            _("When"),
            _("Kind"),
            _("Result"),
            _("Latency"),
            _("HTTP"),
            _("Details"),
            rows,
            calls_url,
            _("All calls of this bot"),
        )

    def save_model(self, request, obj, form, change):
        """Route endpoint changes and additions through the services so versions and checks stay right."""
        if not change:
            super().save_model(request, obj, form, change)
            services.bot_version_record(bot=obj, created_by=request.user, note="Added in admin")
            return
        new_endpoint = obj.endpoint_url
        if "endpoint_url" in form.changed_data:
            obj.endpoint_url = form.initial["endpoint_url"]
        super().save_model(request, obj, form, change)
        if new_endpoint != obj.endpoint_url:
            services.bot_update_endpoint(bot=obj, endpoint_url=new_endpoint, changed_by=request.user, note="Admin")

    @admin.action(description=_("Health-check now (runs the probe and waits)"))
    def health_check_now(self, request, queryset):
        bots = list(queryset.exclude(status=Bot.Status.DISABLED))
        if len(bots) > SYNC_HEALTH_CHECK_LIMIT:
            # Each probe may take up to the bot timeout: many of them would outlast the request.
            for bot in bots:
                services.bot_health_check_request(bot=bot)
            self.message_user(
                request,
                _("%(count)d health checks queued; reload the list in a minute to see the results.")
                % {"count": len(bots)},
                messages.SUCCESS,
            )
            return
        passed = failed = 0
        for bot in bots:
            call = bot_health_check(bot_id=bot.pk)
            if call.ok:
                passed += 1
            else:
                failed += 1
                self.message_user(
                    request, f"{bot.name}: {call.get_failure_kind_display()} — {call.detail}", messages.WARNING
                )
        self.message_user(
            request,
            _("Health checks: %(passed)d passed, %(failed)d failed.") % {"passed": passed, "failed": failed},
            messages.SUCCESS if not failed else messages.WARNING,
        )

    @admin.action(description=_("Disable selected bots"))
    def disable_bots(self, request, queryset):
        for bot in queryset:
            services.bot_disable(bot=bot)
        count = len(queryset)
        self.message_user(request, ngettext("%d bot disabled.", "%d bots disabled.", count) % count, messages.SUCCESS)

    @admin.action(description=_("Enable selected bots (re-checked before they go live)"))
    def enable_bots(self, request, queryset):
        disabled = list(queryset.filter(status=Bot.Status.DISABLED))
        for bot in disabled:
            services.bot_enable(bot=bot)
        count = len(disabled)
        self.message_user(
            request,
            ngettext("%d bot enabled; a health check is queued.", "%d bots enabled; health checks are queued.", count)
            % count,
            messages.SUCCESS,
        )

    @admin.action(description=_("Rotate signing secrets"))
    def rotate_secrets(self, request, queryset):
        for bot in queryset:
            services.bot_rotate_secret(bot=bot)
        count = len(queryset)
        self.message_user(
            request,
            ngettext(
                "%d secret rotated; tell the team to update its bot "
                "(the old secret keeps signing for the grace period).",
                "%d secrets rotated; tell the teams to update their bots "
                "(old secrets keep signing for the grace period).",
                count,
            )
            % count,
            messages.SUCCESS,
        )


@admin.register(BotCall)
class BotCallAdmin(admin.ModelAdmin):
    """Read-only log of calls: filter by failure reason to see what is going wrong across bots."""

    list_display = ["created_at", "bot_link", "purpose", "ok", "failure_kind", "latency", "status_code", "detail"]
    list_filter = ["ok", "purpose", "failure_kind", "bot__competition"]
    search_fields = ["bot__name", "bot__team__name", "detail"]
    list_select_related = ["bot", "bot__team"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Bot"), ordering="bot__name")
    def bot_link(self, call):
        return admin_link(call.bot, call.bot.name)

    @admin.display(description=_("Latency"), ordering="latency_ms")
    def latency(self, call):
        return "—" if call.latency_ms is None else f"{call.latency_ms:.0f} ms"
