"""Pages: home, sign-up, competition page, teams, invitations, bots and the API token.

Views stay thin: parse a form, call one service or selector, map a typed error to a message.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import accounts, selectors, services
from .forms import BotEndpointForm, BotRegisterForm, InvitationCreateForm, SignUpForm, TeamCreateForm
from .models import Bot, Competition, TeamInvitation


def home(request):
    competitions = selectors.competitions_visible()
    return render(request, "home.html", {"competitions": competitions})


def signup(request):
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and accounts.signup_limit_reached(request):
        form.add_error(None, _("Too many accounts were created from your network in the last hour. Try again later."))
        return render(
            request, "registration/signup.html", {"form": form, "next": request.GET.get("next", "")}, status=429
        )
    if request.method == "POST" and form.is_valid():
        user = form.save()
        accounts.signup_count(request)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        next_url = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = "home"
        return redirect(next_url)
    return render(request, "registration/signup.html", {"form": form, "next": request.GET.get("next", "")})


def competition_detail(request, slug):
    competition = get_object_or_404(selectors.competitions_visible(user=request.user), slug=slug)
    language_names = dict(settings.LANGUAGES)
    context = {
        "competition": competition,
        "phases": Competition.Phase.choices,
        "chat_languages": [str(language_names.get(code, code)) for code in competition.languages],
        "control_share": round(competition.control_chat_share * 100),
        "my_bots": selectors.bots_for_user(user=request.user).filter(competition=competition),
    }
    return render(request, "competitions/competition_detail.html", context)


def _member_team(request, slug):
    return get_object_or_404(selectors.teams_for_user(user=request.user), slug=slug)


def _member_bot(request, slug, bot_id) -> Bot:
    return get_object_or_404(selectors.bots_for_user(user=request.user), pk=bot_id, team__slug=slug)


@login_required
def team_list(request):
    form = TeamCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            team = services.team_create(name=form.cleaned_data["name"], owner=request.user)
        except services.CompetitionsError as exc:
            form.add_error("name", exc.message)
        else:
            messages.success(request, _("Team “%(name)s” created.") % {"name": team.name})
            return redirect(team)
    teams = selectors.teams_for_user(user=request.user)
    return render(request, "competitions/team_list.html", {"teams": teams, "form": form})


@login_required
def team_detail(request, slug):
    team = _member_team(request, slug)
    is_owner = selectors.team_is_owner(team=team, user=request.user)
    context = {
        "team": team,
        "is_owner": is_owner,
        "memberships": selectors.team_memberships(team=team),
        "bots": selectors.bots_for_team(team=team),
        "invitations": selectors.team_open_invitations(team=team) if is_owner else [],
        "invite_form": InvitationCreateForm(),
        "can_register": selectors.competitions_accepting_bots().exists(),
    }
    return render(request, "competitions/team_detail.html", context)


@login_required
@require_POST
def team_invite(request, slug):
    team = _member_team(request, slug)
    form = InvitationCreateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter a valid e-mail address or leave it empty."))
        return redirect(team)
    try:
        invitation = services.team_invite(team=team, invited_by=request.user, email=form.cleaned_data["email"])
    except services.CompetitionsError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Invitation created. Share this link: %(url)s")
            % {"url": request.build_absolute_uri(invitation_url(invitation))},
        )
    return redirect(team)


def invitation_url(invitation: TeamInvitation) -> str:
    return reverse("invitation-accept", kwargs={"token": invitation.token})


@login_required
def invitation_accept(request, token):
    invitation = get_object_or_404(TeamInvitation.objects.select_related("team", "invited_by"), token=token)
    if request.method == "POST":
        try:
            membership = services.invitation_accept(token=token, user=request.user)
        except services.CompetitionsError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("You joined “%(team)s”.") % {"team": membership.team.name})
            return redirect(membership.team)
    already_member = invitation.team.has_member(request.user)
    return render(
        request,
        "competitions/invitation_accept.html",
        {"invitation": invitation, "already_member": already_member},
    )


@login_required
def bot_register(request, slug):
    team = _member_team(request, slug)
    initial = {"competition": request.GET.get("competition")} if request.GET.get("competition") else None
    form = BotRegisterForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            bot = services.bot_register(
                team=team,
                competition=form.cleaned_data["competition"],
                name=form.cleaned_data["name"],
                endpoint_url=form.cleaned_data["endpoint_url"],
                created_by=request.user,
            )
        except services.CompetitionsError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _(
                    "Bot registered. Install its signing secret (below) in your bot: the health check runs now "
                    "and again within two minutes, or press “Run a health check now” once your bot is ready. "
                    "It goes live once a check passes."
                ),
            )
            return redirect("bot-detail", slug=team.slug, bot_id=bot.pk)
    return render(request, "competitions/bot_register.html", {"team": team, "form": form})


@login_required
def bot_detail(request, slug, bot_id):
    bot = _member_bot(request, slug, bot_id)
    context = {
        "team": bot.team,
        "bot": bot,
        "calls": selectors.bot_recent_calls(bot=bot),
        "failure_counts": selectors.bot_failure_counts(bot=bot),
        "success_rate": selectors.bot_call_success_rate(bot=bot),
        "versions": selectors.bot_versions(bot=bot),
        "endpoint_form": BotEndpointForm(initial={"endpoint_url": bot.endpoint_url}),
        "grace_hours": round(settings.BOT_SECRET_GRACE_HOURS),
    }
    return render(request, "competitions/bot_detail.html", context)


@login_required
@require_POST
def bot_update_endpoint(request, slug, bot_id):
    bot = _member_bot(request, slug, bot_id)
    form = BotEndpointForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, " ".join(form.errors.get("endpoint_url", [])) or _("Enter a valid http:// or https:// URL.")
        )
        return redirect("bot-detail", slug=slug, bot_id=bot.pk)
    old_version = bot.version
    try:
        services.bot_update_endpoint(
            bot=bot,
            endpoint_url=form.cleaned_data["endpoint_url"],
            changed_by=request.user,
            note=form.cleaned_data["note"],
        )
    except services.CompetitionsError as exc:
        messages.error(request, exc.message)
    else:
        if bot.version == old_version:
            messages.info(request, _("That is already the bot's endpoint; nothing changed."))
        else:
            messages.success(
                request,
                _("Endpoint updated (version %(version)s). A health check is queued.") % {"version": bot.version},
            )
    return redirect("bot-detail", slug=slug, bot_id=bot.pk)


@login_required
@require_POST
def bot_rotate_secret(request, slug, bot_id):
    bot = _member_bot(request, slug, bot_id)
    services.bot_rotate_secret(bot=bot, revoke_old=request.POST.get("revoke_old") == "1")
    if bot.previous_secret_in_grace():
        until = date_format(timezone.localtime(bot.previous_secret_valid_until), "DATETIME_FORMAT")
        text = _(
            "New signing secret issued. The old one keeps working until %(until)s: install the new one before then."
        ) % {"until": until}
    else:
        text = _("New signing secret issued. Update your bot: the old secret no longer verifies.")
    messages.success(request, text)
    return redirect("bot-detail", slug=slug, bot_id=bot.pk)


@login_required
@require_POST
def bot_check(request, slug, bot_id):
    bot = _member_bot(request, slug, bot_id)
    try:
        services.bot_health_check_request(bot=bot)
    except services.CompetitionsError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Health check queued. Reload this page in a few seconds to see the result."))
    return redirect("bot-detail", slug=slug, bot_id=bot.pk)


@login_required
def api_token(request):
    if request.method == "POST":
        services.api_token_regenerate(user=request.user)
        messages.success(request, _("New API token created. The previous one no longer works."))
        return redirect("api-token")
    token = selectors.api_token_for_user(user=request.user)
    return render(request, "competitions/api_token.html", {"token": token})
