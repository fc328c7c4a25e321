"""What the demo community is made of: names, trainings, challenge texts, comments.

Small lists in French and English, so that the dashboard of `ambassador-bot demo` reads like
a real programme in both languages. Demo content only: nothing here is shown to users of a
real workspace.
"""

from __future__ import annotations

from dataclasses import dataclass

FIRST_FR = (
    "Camille", "Léa", "Manon", "Chloé", "Inès", "Sarah", "Julie", "Emma", "Louise", "Anaïs",
    "Lucas", "Hugo", "Thomas", "Nicolas", "Julien", "Antoine", "Mathieu", "Romain", "Bastien",
    "Maxime", "Nadia", "Yasmine", "Karim", "Mehdi", "Sofiane", "Aurélie", "Élodie", "Céline",
    "Gaëlle", "Hélène", "François", "Benoît", "Jérôme", "Stéphane", "Zoé", "Margaux",
)  # fmt: skip
LAST_FR = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "Roux", "Fournier", "Girard",
    "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent", "Muller", "Benali",
    "Haddad", "Nguyen", "Mercier", "Chevalier", "Gauthier", "Perrin",
)  # fmt: skip
FIRST_INTL = (
    "Emily", "Olivia", "Sophie", "Grace", "Hannah", "Priya", "Aisha", "Mei", "Yuki", "Ana",
    "James", "Oliver", "Daniel", "Liam", "Ethan", "Noah", "Arjun", "Kenji", "Mateo", "Lukas",
    "Chen", "Fatima", "Kwame", "Ingrid", "Sven", "Giulia", "Marco", "Elena", "Tomasz", "Zainab",
)  # fmt: skip
LAST_INTL = (
    "Smith", "Johnson", "Williams", "Brown", "Taylor", "Wilson", "Patel", "Khan", "Kim", "Chen",
    "Tanaka", "Silva", "Rossi", "Müller", "Novak", "Okafor", "Mensah", "Larsen", "Andersson",
    "García", "Fernández", "O'Brien", "Murphy", "Cohen", "Singh", "Ivanova", "Kowalski",
)  # fmt: skip


@dataclass(frozen=True)
class Training:
    """A training of the catalogue: its name, the language it is given in, its trainers."""

    name: str
    locale: str
    slug: str
    trainers: tuple[tuple[str, str], ...]  # (display name, locale)
    weight: float  # how often it runs, relative to the others
    topics: str  # what its mentors declare they can help with


TRAININGS = (
    Training(
        "Excel avancé", "fr", "excel", (("Sophie Marchand", "fr"),), 1.4, "Excel, tableaux croisés"
    ),
    Training(
        "Management à distance",
        "fr",
        "management",
        (("Claire Dubois", "fr"), ("Olivier Renaud", "fr")),
        1.0,
        "management, télétravail",
    ),
    Training("Data literacy", "en", "data", (("David Okafor", "en"),), 1.2, "data, dashboards"),
    Training(
        "Sales onboarding", "en", "sales", (("James Whitfield", "en"),), 0.9, "sales, negotiation"
    ),
    Training(
        "Prise de parole en public",
        "fr",
        "parole",
        (("Claire Dubois", "fr"),),
        0.7,
        "prise de parole, pitch",
    ),
)

# Recurring challenges of the community conversation: (text, locale, weekday 0=Monday, hour).
CHALLENGES = (
    (
        "Défi de la semaine : appliquez une astuce de la formation sur un vrai dossier et "
        "racontez ce que ça a changé.",
        "fr",
        0,
        9,
    ),
    (
        "Weekly challenge: share one chart or number you used this week to make a decision.",
        "en",
        3,
        10,
    ),
)
# One-off challenges (open a week): (text, locale).
ONE_OFFS = (
    ("Montrez-nous votre plus beau tableau croisé dynamique (données anonymisées).", "fr"),
    ("Run your next team meeting with a clear agenda sent the day before: how did it go?", "en"),
    ("Préparez un pitch de 2 minutes sur votre projet et testez-le sur un ou une collègue.", "fr"),
    ("Try one new Excel or Sheets shortcut every day this week and tell us your favourite.", "en"),
)

ANSWERS = {
    ("fr", "success"): (
        "Fait ! J'ai gagné une bonne heure sur mon reporting.",
        "Testé en réunion d'équipe, très bon accueil.",
        "Appliqué sur le budget du trimestre, ça marche.",
        "Réussi du premier coup, merci pour l'astuce.",
        "Mon équipe l'utilise maintenant aussi.",
    ),
    ("fr", "not_yet"): (
        "Pas encore, je bloque sur les formules imbriquées.",
        "J'ai essayé mais je n'ai pas trouvé le bon moment.",
        "Commencé, je termine la semaine prochaine.",
        "Pas encore : quelqu'un aurait un exemple ?",
    ),
    ("en", "success"): (
        "Done! Saved me an hour on the weekly report.",
        "Tried it with my team today, worked great.",
        "Used it for the quarterly review, people loved it.",
        "Nailed it on the first try, thanks for the tip.",
        "My manager asked me to show the team.",
    ),
    ("en", "not_yet"): (
        "Not yet, stuck on the data cleaning part.",
        "Started but ran out of time this week.",
        "Not yet: could someone share an example?",
        "Halfway there, will finish next week.",
    ),
}
# Free contributions, by kind (`share`, `share question`, `share experience`, `share watch`)
# and language; a watch link always has its address (WATCH_LINKS), a tip sometimes (LINKS).
SHARES = {
    "fr": (
        "Ma check-list pour les réunions à distance, si ça peut servir.",
        "Un modèle de tableau de bord que j'utilise chaque semaine.",
        "Astuce : Ctrl+Maj+L pose les filtres d'un tableau en un geste.",
        "Je commence mes entretiens individuels par une réussite de la semaine.",
        "Pour les visios longues : une pause de 5 minutes toutes les 45 minutes.",
    ),
    "en": (
        "My template for one-to-one meetings, feel free to reuse it.",
        "Cheat sheet for pivot tables.",
        "Tip: Ctrl+Shift+L turns filters on for a whole table.",
        "I open every team meeting with one win from the week.",
        "For long calls: a 5-minute break every 45 minutes.",
    ),
}
QUESTIONS = {
    "fr": (
        "Comment dites-vous non à une demande urgente sans froisser ?",
        "Quelqu'un a-t-il un modèle de compte rendu de réunion qui marche vraiment ?",
        "Comment faire parler les personnes discrètes en visio ?",
        "Quelle formule utilisez-vous pour un taux de croissance mensuel ?",
        "Comment relancer un client qui ne répond plus sans insister lourdement ?",
    ),
    "en": (
        "How do you say no to an urgent request without upsetting anyone?",
        "Does anyone have a meeting-notes template that actually works?",
        "How do you get quieter people to speak up on video calls?",
        "Which formula do you use for month-over-month growth?",
        "How do you follow up with a client who went silent without being pushy?",
    ),
}
EXPERIENCES = {
    "fr": (
        "J'ai testé la météo d'équipe en début de réunion : dix minutes, et tout le monde a parlé.",
        "Mon premier entretien individuel en visio : la caméra coupée au début a tout compliqué.",
        "Trois fichiers Excel remplacés par un tableau croisé : une heure gagnée par semaine.",
        "J'ai demandé un retour à la fin de ma présentation : deux idées que je n'avais pas vues.",
    ),
    "en": (
        "I tried a team check-in at the start of the meeting: ten minutes, and everyone spoke.",
        "My first remote one-to-one: starting with cameras off made everything harder.",
        "I replaced three spreadsheets with one pivot table; the team saved an hour a week.",
        "I asked for feedback at the end of my talk: two ideas I had not seen.",
    ),
}
WATCHES = {
    "fr": (
        "Un article très clair sur la visualisation de données.",
        "Une vidéo de 5 minutes sur les raccourcis Excel.",
        "Une étude sur le télétravail et la cohésion d'équipe.",
        "",
    ),
    "en": (
        "A great read on storytelling with data.",
        "Short video on objection handling that helped me a lot.",
        "A study on remote work and team cohesion.",
        "",
    ),
}
REPLIES = {
    "fr": (
        "Je propose toujours une autre date : ça passe mieux qu'un non sec.",
        "J'utilise le modèle de l'équipe qualité, je peux vous l'envoyer.",
        "Un tour de table rapide au début, chacun un mot : ça lance tout le monde.",
        "=(B2-B1)/B1, puis format pourcentage.",
        "Un message court avec une question précise, une semaine plus tard.",
        "Même question de mon côté, la réponse m'intéresse aussi.",
    ),
    "en": (
        "I always offer another date: it lands better than a flat no.",
        "I use the quality team's template, happy to send it over.",
        "A quick round at the start, one word each: it gets everyone going.",
        "=(B2-B1)/B1, then percentage format.",
        "A short note with one precise question, a week later.",
        "A chat-only round first, then voices: it worked for my team.",
    ),
}
LINKS = (
    "https://example.org/articles/visualisation",
    "https://example.org/templates/one-to-one",
    "https://example.org/videos/shortcuts",
    None,
    None,
)
WATCH_LINKS = (
    "https://example.org/articles/visualisation",
    "https://example.org/videos/shortcuts",
    "https://example.org/studies/remote-teams",
    "https://example.org/articles/feedback",
)
HIDE_REASONS = ("Hors sujet", "Doublon", "Off topic", "Contient des données clients")

COMMENTS = {
    ("fr", "promoter"): (
        "Formation très concrète, je l'applique déjà au quotidien.",
        "Excellente animation, beaucoup d'exemples utiles.",
        "Le format court et les défis m'ont motivé·e.",
        "Je recommande à toute mon équipe.",
    ),
    ("fr", "passive"): (
        "Bien, mais un peu dense sur la fin.",
        "Utile, j'aurais aimé plus de pratique.",
        "Bon contenu, rythme un peu rapide.",
    ),
    ("fr", "detractor"): (
        "Trop théorique pour mon poste.",
        "Le niveau ne correspondait pas à mes attentes.",
        "Difficile à suivre en visio.",
    ),
    ("en", "promoter"): (
        "Very practical, I use it every day now.",
        "Great trainer, lots of real examples.",
        "The weekly challenges kept me going.",
        "I'd recommend it to my whole team.",
    ),
    ("en", "passive"): (
        "Good, but a bit long.",
        "Useful, would have liked more hands-on time.",
        "Solid content, the pace was fast.",
    ),
    ("en", "detractor"): (
        "Too theoretical for my role.",
        "Not the level I expected.",
        "Hard to follow remotely.",
    ),
}
# Colleagues named in pulse answers who are not on the platform (free names).
FREE_NAMES = (
    "Marie Lefort", "Paul Girardin", "Anne Vasseur", "Tom Becker", "Julia Novak", "Rémi Caron",
    "Lisa Meyer", "Samir Amrani", "Kate Morris", "Hugo Renard",
)  # fmt: skip
