"""Every command, button, form and reaction of the bot, in one place, top to bottom.

English words first, French aliases after. `role` is the least role allowed (checked by
bot/core/routing.py; only `pulse results all` asks more, in its handler); `exact`
marks a group's bare word (`challenge` opens a form; `challenge foo` gets the group's help).
docs/COMMANDS.md documents this table; tests/docs/test_commands_doc.py runs its examples.
"""

from __future__ import annotations

from bot.core.commands import (
    Action,
    ActionTable,
    Command,
    CommandTable,
    FormAction,
    FormTable,
    ReactionRow,
    ThreadReplyRow,
)
from bot.core.roles import ADMIN, ANIMATOR
from bot.core.routing import Router
from bot.handlers import (
    about,
    audit_log,
    badges,
    challenges,
    contributions,
    dashboard,
    general,
    home,
    members_admin,
    mentoring,
    mentoring_rounds,
    personal_data,
    preferences,
    profile,
    pulse_answers,
    pulse_cards,
    pulse_export,
    pulse_results,
    pulses,
    referral_invites,
    signup,
    themes,
)

COMMANDS = CommandTable(
    [
        # Everyone
        Command("help", ("help",), general.help_, aliases=(("aide",), ("?",))),
        Command(
            "hello",
            ("hello",),
            general.hello,
            listed=False,
            aliases=(("hi",), ("hey",), ("bonjour",), ("salut",), ("coucou",)),
        ),
        Command("join", ("join",), signup.join, aliases=(("rejoindre",),)),
        Command("me", ("me",), profile.me, aliases=(("moi",), ("profil",), ("profile",))),
        Command("about", ("about",), about.about, aliases=(("a", "propos"), ("apropos",))),
        Command("home", ("home",), home.home, aliases=(("accueil",),)),
        Command(
            "badges", ("badges",), badges.ladder_list, aliases=(("badge", "list"), ("echelle",))
        ),
        Command(
            "session.list",
            ("session", "list"),
            signup.list_sessions,
            aliases=(("session", "liste"), ("sessions",)),
        ),
        Command(
            "settings.language",
            ("settings", "language"),
            preferences.language,
            aliases=(("reglages", "langue"), ("parametres", "langue")),
        ),
        Command(
            "settings.timezone",
            ("settings", "timezone"),
            preferences.timezone,
            aliases=(("reglages", "fuseau"), ("parametres", "fuseau")),
        ),
        Command(
            "settings.invitations",
            ("settings", "invitations"),
            preferences.invitations,
            aliases=(("reglages", "invitations"), ("parametres", "invitations")),
        ),
        Command(
            "data.export",
            ("my", "data"),
            personal_data.my_data,
            aliases=(("mes", "donnees"), ("my", "data", "export")),
        ),
        Command("leave", ("leave",), personal_data.leave, aliases=(("quitter",),)),
        Command(
            "forget.me",
            ("forget", "me"),
            personal_data.forget_me,
            aliases=(("oublie-moi",), ("oublie", "moi"), ("oubliez-moi",), ("oubliez", "moi")),
        ),
        Command(
            "pulse.results",
            ("pulse", "results"),
            pulse_results.results,
            aliases=(("pulse", "resultats"), ("sondage", "resultats")),
        ),
        Command(
            "mentor.on",
            ("mentor", "on"),
            mentoring.mentor_on,
            aliases=(("mentor", "oui"), ("mentorat", "oui"), ("mentorat", "on")),
        ),
        Command(
            "mentor.off",
            ("mentor", "off"),
            mentoring.mentor_off,
            aliases=(("mentor", "non"), ("mentorat", "non"), ("mentorat", "off")),
        ),
        Command(
            "mentor.pause",
            ("mentor", "pause"),
            mentoring.mentor_pause,
            aliases=(("mentorat", "pause"),),
        ),
        Command(
            "mentor.request",
            ("mentor", "request"),
            mentoring.request,
            aliases=(("mentor", "demander"), ("mentorat", "demander")),
        ),
        Command(
            "mentor.stop",
            ("mentor", "stop"),
            mentoring.stop,
            aliases=(("mentor", "arreter"), ("mentorat", "arreter")),
        ),
        # Animators
        Command(
            "pair",
            ("pair",),
            mentoring.pair,
            role=ANIMATOR,
            exact=True,
            aliases=(("jumeler",),),
        ),
        Command(
            "pair.allow",
            ("pair", "allow"),
            mentoring.allow,
            role=ANIMATOR,
            aliases=(("jumeler", "autoriser"),),
        ),
        Command(
            "pair.preview",
            ("pair", "preview"),
            mentoring.pair_preview,
            role=ANIMATOR,
            aliases=(("jumeler", "apercu"),),
        ),
        Command(
            "mentoring.stats",
            ("mentoring", "stats"),
            mentoring.stats,
            role=ANIMATOR,
            aliases=(("mentorat", "stats"), ("mentorat", "statistiques")),
        ),
        Command(
            "dashboard",
            ("dashboard",),
            dashboard.dashboard,
            role=ANIMATOR,
            aliases=(("tableau", "de", "bord"), ("pilotage",)),
        ),
        Command(
            "pulse.new",
            ("pulse",),
            pulses.open_form,
            role=ANIMATOR,
            exact=True,
            aliases=(("sondage",),),
        ),
        Command(
            "pulse.send",
            ("pulse", "send"),
            pulses.send,
            role=ANIMATOR,
            aliases=(("pulse", "envoyer"), ("sondage", "envoyer")),
        ),
        Command(
            "pulse.list",
            ("pulse", "list"),
            pulses.list_,
            role=ANIMATOR,
            aliases=(("pulse", "liste"), ("sondage", "liste"), ("pulses",), ("sondages",)),
        ),
        Command(
            "pulse.close",
            ("pulse", "close"),
            pulses.close,
            role=ANIMATOR,
            aliases=(("pulse", "fermer"), ("sondage", "fermer"), ("pulse", "clore")),
        ),
        Command(
            "pulse.cancel",
            ("pulse", "cancel"),
            pulses.cancel,
            role=ANIMATOR,
            aliases=(("pulse", "annuler"), ("sondage", "annuler")),
        ),
        Command(
            "pulse.export",
            ("pulse", "export"),
            pulse_export.export,
            role=ANIMATOR,
            aliases=(("pulse", "exporter"), ("sondage", "exporter")),
        ),
        Command(
            "session.start",
            ("session", "start"),
            signup.start,
            role=ANIMATOR,
            aliases=(("session", "ouvrir"), ("session", "demarrer")),
        ),
        Command(
            "session.close",
            ("session", "close"),
            signup.close,
            role=ANIMATOR,
            aliases=(("session", "fermer"), ("session", "clore")),
        ),
        Command(
            "session.status",
            ("session", "status"),
            signup.status,
            role=ANIMATOR,
            aliases=(("session", "statut"), ("session", "etat")),
        ),
        Command("share", ("share",), contributions.share, aliases=(("partager",),)),
        # French `réactions` is the same word once accents are folded (bot/core/parsing.py).
        Command("reactions", ("reactions",), contributions.reactions),
        Command("reply", ("reply",), contributions.reply, aliases=(("repondre",),)),
        # Not French `aidé`: folded, it is `aide` (help). `utile 14`: "the useful reply".
        Command("helped", ("helped",), contributions.helped, aliases=(("utile",),)),
        # French `thèmes` folds to `themes`: one word for both languages.
        Command("themes", ("themes",), themes.themes, aliases=(("theme",),)),
        Command(
            "themes.export",
            ("themes", "export"),
            themes.export,
            role=ANIMATOR,
            aliases=(("themes", "exporter"),),
        ),
        Command(
            "share.question",
            ("share", "question"),
            contributions.share_question,
            aliases=(("partager", "question"),),
        ),
        Command(
            "share.experience",
            ("share", "experience"),
            contributions.share_experience,
            aliases=(("partager", "retour"), ("partager", "experience"), ("share", "retour")),
        ),
        Command(
            "share.watch",
            ("share", "watch"),
            contributions.share_watch,
            aliases=(("partager", "veille"), ("partager", "watch"), ("share", "veille")),
        ),
        Command(
            "challenge.new",
            ("challenge",),
            challenges.open_form,
            role=ANIMATOR,
            exact=True,
            aliases=(("defi",),),
        ),
        Command(
            "challenge.edit",
            ("challenge", "edit"),
            challenges.edit,
            role=ANIMATOR,
            aliases=(("defi", "modifier"),),
        ),
        Command("hide", ("hide",), contributions.hide, role=ANIMATOR, aliases=(("masquer",),)),
        Command(
            "challenge.answer",
            ("challenge", "answer"),
            challenges.answer,
            aliases=(("defi", "repondre"),),
        ),
        Command(
            "challenge.post",
            ("challenge", "post"),
            challenges.post,
            role=ANIMATOR,
            aliases=(("defi", "publier"),),
        ),
        Command(
            "challenge.list",
            ("challenge", "list"),
            challenges.list_,
            role=ANIMATOR,
            aliases=(("defi", "liste"), ("challenges",), ("defis",)),
        ),
        Command(
            "challenge.cancel",
            ("challenge", "cancel"),
            challenges.cancel,
            role=ANIMATOR,
            aliases=(("defi", "annuler"),),
        ),
        # Admins
        Command(
            "role.add",
            ("role", "add"),
            members_admin.role_add,
            role=ADMIN,
            aliases=(("role", "ajouter"),),
        ),
        Command(
            "role.remove",
            ("role", "remove"),
            members_admin.role_remove,
            role=ADMIN,
            aliases=(("role", "retirer"),),
        ),
        Command(
            "badge.grant",
            ("badge", "grant"),
            badges.grant,
            role=ANIMATOR,
            aliases=(("badge", "attribuer"),),
        ),
        Command(
            "badge.revoke",
            ("badge", "revoke"),
            badges.revoke,
            role=ANIMATOR,
            aliases=(("badge", "retirer"), ("badge", "revoquer")),
        ),
        Command(
            "member.forget",
            ("member", "forget"),
            personal_data.forget_member,
            role=ADMIN,
            aliases=(("membre", "oublier"),),
        ),
        Command(
            "community.here",
            ("community", "here"),
            members_admin.community_here,
            role=ADMIN,
            aliases=(("communaute", "ici"),),
        ),
        Command("audit", ("audit",), audit_log.show, role=ADMIN, aliases=(("journal",),)),
    ]
)

# Buttons: the handler gets the button's value.
ACTIONS = ActionTable(
    [
        Action(signup.JOIN_ACTION, signup.join_button),
        Action(signup.JOIN_COMMUNITY_ACTION, signup.join_community_button),
        Action(signup.CLOSE_ACTION, signup.close_button, role=ANIMATOR),
        Action(general.HELP_ACTION, general.help_button),
        Action(home.SHORTCUT_ACTION, home.shortcut),
        Action(challenges.ANSWER_FORM_ACTION, challenges.answer_form),
        Action(contributions.LIKE_ACTION, contributions.like),
        Action(contributions.DISLIKE_ACTION, contributions.dislike),
        Action(contributions.REPLY_FORM_ACTION, contributions.reply_form),
        Action(contributions.HELPED_ACTION, contributions.helped_button),
        Action(contributions.HIDE_FORM_ACTION, contributions.hide_form, role=ANIMATOR),
        Action(pulse_cards.SCORE_ACTION, pulse_answers.score),
        Action(pulse_cards.LSAT_ACTION, pulse_answers.lsat),
        Action(referral_invites.RESPOND_ACTION, referral_invites.respond),
        Action(mentoring.CONSENT_ACTION, mentoring.consent),
        Action(mentoring_rounds.CHECK_IN_ACTION, mentoring.check_in),
        Action(personal_data.FORGET_ME_ACTION, personal_data.forget_me_confirmed),
        Action(
            personal_data.FORGET_MEMBER_ACTION, personal_data.forget_member_confirmed, role=ADMIN
        ),
        Action(personal_data.CANCEL_ACTION, personal_data.cancel),
    ]
)

# Forms: the handler gets the submitted values; `with_argument` also gets what the form's
# submit_action_id carries after a colon.
FORMS = FormTable(
    [
        FormAction(challenges.ANSWER_ACTION, with_argument=challenges.answer_submitted),
        FormAction(
            challenges.FORM_ACTION,
            challenges.form_submitted,
            role=ANIMATOR,
            with_argument=challenges.edit_form_submitted,
        ),
        FormAction(
            contributions.HIDE_ACTION, with_argument=contributions.hide_submitted, role=ANIMATOR
        ),
        FormAction(contributions.SHARE_FORM_ACTION, contributions.share_submitted),
        FormAction(contributions.REPLY_ACTION, with_argument=contributions.reply_submitted),
        FormAction(pulses.FORM_ACTION, pulses.form_submitted, role=ANIMATOR),
        FormAction(pulse_cards.DETAILS_ACTION, with_argument=pulse_answers.details),
    ]
)

# A reaction added to a message or taken off it: a like or a dislike, when the message is a
# posted contribution.
REACTION = ReactionRow("contribution.react", contributions.react)
# A message written in the thread of a posted question (Slack, Teams): a reply.
THREAD_REPLY = ThreadReplyRow(contributions.THREAD_REPLY, contributions.thread_reply)


ROUTER = Router(
    COMMANDS,
    ACTIONS,
    FORMS,
    reaction=REACTION,
    thread_reply=THREAD_REPLY,
    on_empty=general.help_,
    on_unknown=general.unknown,
)
