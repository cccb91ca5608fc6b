"""The room's words in each language the game speaks (English, French): one catalogue, looked up by key.

The room's `settings.language` picks the table; a key missing from a language falls back to English, and a
test checks that none is missing, so a new text never ships half-translated by accident.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from parlor_protocol.vocabulary import CLUE_MAX, NAME_MAX

DEFAULT = "en"
LANGUAGE_NAMES = {"en": "English", "fr": "Français"}

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "room_code": "Room code",
        "share": "Share this link so friends can join:",
        "players_n": "Players ({n}/{max})",
        "need_more": "{n} more player(s) needed to start. Bots count.",
        "host_controls": "Host controls",
        "add_bot": "Add a bot",
        "remove": "Remove {name}",
        "discussion_s": "Discussion (seconds)",
        "voting_s": "Voting (seconds)",
        "undercovers": "Undercovers",
        "uc_auto": "Automatic",
        "uc_1": "1 undercover",
        "uc_2": "2 undercovers",
        "mr_white": "Mr. White",
        "mr_white_help": "One player gets no word. Voted out, they get one guess at the civilians' word and win "
        "alone if right. 5 players or more.",
        "guess_s": "Mr. White's guess (seconds)",
        "tie_rule": "On a tie",
        "tie_nobody_out": "Nobody is out",
        "tie_revote": "Revote among the tied, then nobody",
        "tie_help": "A revote lets the table vote once more, only between the tied players.",
        "reveal": "Votes are shown",
        "reveal_names": "By name (who voted for whom)",
        "reveal_counts": "As counts only",
        "reveal_help": "Counts only: everyone sees how many votes each player got, never who cast them.",
        "grace": "Wait for a dropped player (seconds)",
        "grace_help": "After this, a bot plays their seat until they are back.",
        "language": "Language",
        "pack": "Word pack",
        "pack_custom": "Our own words ({n} pairs)",
        "save": "Save settings",
        "own_pack": "Our own words",
        "own_pack_help": "One pair a line, the two words separated by a comma, for example: cat, dog",
        "own_pack_field": "Pairs",
        "use_pack": "Use these words",
        "start": "Start game",
        "settings": "Settings",
        "setting_line": "- {label}: **{value}**",
        "on": "on",
        "off": "off",
        "waiting_host": "Waiting for the host to start the game…",
        "rules": "📖 Rules",
        "rules_link": "The full rules are also in docs/rules.md.",
        "phase_discussion": "Discussion",
        "phase_voting": "Voting",
        "phase_guess": "Mr. White's guess",
        "sub_discussion": "Give a clue about your word without saying it.",
        "sub_voting": "Who is the undercover? Vote someone out.",
        "sub_revote": "Tie! Vote again, only between {names}.",
        "sub_guess": "{name} was Mr. White and is guessing the civilians' word…",
        "game_round": "Game {game} · Round {round}",
        "your_word": "Your secret word",
        "spectating": "Spectating",
        "spectating_text": "You joined mid-game. You will play in the next one.",
        "mr_white_card": "You are Mr. White",
        "no_word": "You have no word",
        "no_word_sub": "Listen to the clues and blend in. Voted out, you get one guess at the civilians' word.",
        "eliminated": "🗳️ <b>{name}</b> was voted out in round {round}: {role}.",
        "tied": "🤝 Round {round} ended in a tie: nobody was voted out.",
        "revote": "🤝 A tie in round {round}: one more vote between {names}.",
        "guess_right": "🎯 {name} guessed “{guess}”: right!",
        "guess_wrong": "❌ {name} guessed “{guess}”: wrong.",
        "guess_none": "⌛ {name} made no guess in time.",
        "guessing": "🤔 {name} is guessing the word…",
        "out_notice": "👀 You were voted out. Watch the rest of the game.",
        "your_clue": "Your clue",
        "clue_ph": "One short clue…",
        "send": "Send",
        "move_sending": "Sending… {move}",
        "move_done": "Sent: {move}",
        "move_refused": "Not sent: {move}. {reason}",
        "ready": "I'm ready to vote",
        "ready_done": "Ready ✓",
        "your_vote": "Your vote",
        "vote_for": "Vote {name}",
        "end_discussion": "End discussion now",
        "count_votes": "Count the votes now",
        "your_guess": "Your guess",
        "guess_ph": "The civilians' word",
        "guess_send": "Guess",
        "guess_prompt": "You are out, but you can still win: what is the civilians' word?",
        "clues": "Clues",
        "no_clues": "No clues yet.",
        "round_n": "Round {n}",
        "players": "Players",
        "watching": "Watching: {names}",
        "tag_host": "host",
        "tag_bot": "bot",
        "tag_watching": "watching",
        "tag_out": "out",
        "tag_voted": "✓ voted",
        "tag_ready": "ready",
        "tag_reconnecting": "reconnecting…",
        "tag_stand_in": "(bot standing in)",
        "role_civilian": "civilian",
        "role_undercover": "undercover",
        "role_mr_white": "Mr. White",
        "win_civilians": "The civilians win!",
        "win_undercover": "The undercover wins!",
        "win_mr_white": "Mr. White wins!",
        "game_over": "Game over",
        "civ_word": "Civilian word",
        "uc_word": "Undercover word",
        "story": "The story",
        "eliminations": "Eliminations, in order",
        "elim_line": "Round {round}: <b>{name}</b>, {role} ({word}), {how}",
        "how_voted": "voted out",
        "how_left": "left",
        "no_word_short": "no word",
        "votes_by_name": "Votes: {items}",
        "votes_counts": "Votes received: {items}",
        "votes_none": "No votes.",
        "voted_for": "{voter} → {target}",
        "revote_label": "revote",
        "guess_line": "Mr. White ({name}) guessed “{guess}”: {verdict}",
        "right": "right",
        "wrong": "wrong",
        "nothing": "nothing",
        "play_again": "Play again",
        "waiting_new": "Waiting for the host to start a new game…",
        "removed": "You are no longer in this room.",
        "kicked": "The host removed you.",
        "winners": "Winners: {names}",
        "error_prefix": "",
        "status_connected": "🟢 Connected (Real-time)",
        "status_connecting": "🟡 Connecting…",
        "status_fallback": "🔴 Disconnected (Fallback to polling)",
        "status_polling": "⚪ Polling (WebSocket off)",
        "status_stopped": "⛔ Stopped",
        "me_room": "Room {code}",
        "leave_room": "Leave room",
        "tagline": "Undercover, the party word game. Everyone shares a secret word, except the undercover.",
        "join_title": "Join a room",
        "your_name": "Your name",
        "name_ph": "e.g. {name}",
        "join_button": "Join room",
        "code_length": "Room codes have 5 characters, like ABCDE.",
        "create_title": "Create a room",
        "create_help": "You will be the host: invite friends with the room code, add bots, start the game.",
        "create_button": "Create room",
        "landing_footer": "{min} to {max} players. Give clues about your word without saying it, then vote out the "
        "undercover.",
        "name_needed": "Please enter your name.",
        "seat_offer": "You were in room **{code}** as **{name}** in this browser.",
        "continue_as": "Continue as {name}",
        "seat_room_ended": "Room {code} has ended, so your seat there is gone.",
        "seat_invalid": "Your seat in room {code} is no longer valid (the host may have removed you). Join again "
        "to play.",
        "restoring": "Restoring your seat…",
        "pack_refused": "These words cannot be used:",
        "pack_two_words": "line {line}: “{word}” needs exactly two words separated by a comma",
        "pack_bad_word": "line {line}: “{word}” must be up to {limit} letters, spaces, apostrophes or hyphens",
        "pack_same_word": "line {line}: “{word}” cannot be paired with itself",
        "pack_repeated": "line {line}: “{word}” already appears on line {other}",
        "pack_too_many_lines": "a pack holds at most {limit} lines",
        "pack_empty": "the pack needs at least one pair, like: cat, dog",
        "pack_file": "Or upload a text file",
        "pack_file_help": "A UTF-8 text file (.txt or .csv), one pair a line, up to {kb} KB.",
        "use_file": "Use this file",
        "pack_file_missing": "Choose a file first.",
        "pack_file_too_big": "“{file}” is {kb} KB; a pack file holds at most {max} KB.",
        "pack_file_not_text": "“{file}” is not UTF-8 text. Save it as plain UTF-8 text and try again.",
    },
    "fr": {
        "room_code": "Code du salon",
        "share": "Partagez ce lien pour inviter vos amis :",
        "players_n": "Joueurs ({n}/{max})",
        "need_more": "Encore {n} joueur(s) pour commencer. Les bots comptent.",
        "host_controls": "Réglages de l'hôte",
        "add_bot": "Ajouter un bot",
        "remove": "Retirer {name}",
        "discussion_s": "Discussion (secondes)",
        "voting_s": "Vote (secondes)",
        "undercovers": "Undercovers",
        "uc_auto": "Automatique",
        "uc_1": "1 undercover",
        "uc_2": "2 undercovers",
        "mr_white": "Mr. White",
        "mr_white_help": "Un joueur n'a aucun mot. Éliminé, il peut deviner le mot des civils et gagne seul "
        "s'il a raison. À partir de 5 joueurs.",
        "guess_s": "Devinette de Mr. White (secondes)",
        "tie_rule": "En cas d'égalité",
        "tie_nobody_out": "Personne n'est éliminé",
        "tie_revote": "Nouveau vote entre les ex aequo, puis personne",
        "tie_help": "Le nouveau vote ne porte que sur les joueurs à égalité.",
        "reveal": "Affichage des votes",
        "reveal_names": "Par nom (qui a voté pour qui)",
        "reveal_counts": "En nombre seulement",
        "reveal_help": "En nombre : chacun voit combien de voix chaque joueur a reçues, jamais qui les a données.",
        "grace": "Attendre un joueur déconnecté (secondes)",
        "grace_help": "Ensuite, un bot joue à sa place jusqu'à son retour.",
        "language": "Langue",
        "pack": "Paquet de mots",
        "pack_custom": "Nos propres mots ({n} paires)",
        "save": "Enregistrer",
        "own_pack": "Nos propres mots",
        "own_pack_help": "Une paire par ligne, les deux mots séparés par une virgule, par exemple : chat, chien",
        "own_pack_field": "Paires",
        "use_pack": "Utiliser ces mots",
        "start": "Lancer la partie",
        "settings": "Réglages",
        "setting_line": "- {label} : **{value}**",
        "on": "oui",
        "off": "non",
        "waiting_host": "En attente du lancement par l'hôte…",
        "rules": "📖 Règles",
        "rules_link": "Les règles complètes sont aussi dans docs/rules.fr.md.",
        "phase_discussion": "Discussion",
        "phase_voting": "Vote",
        "phase_guess": "Devinette de Mr. White",
        "sub_discussion": "Donnez un indice sur votre mot sans le dire.",
        "sub_voting": "Qui est l'undercover ? Votez pour éliminer quelqu'un.",
        "sub_revote": "Égalité ! Revotez, uniquement entre {names}.",
        "sub_guess": "{name} était Mr. White et tente de deviner le mot des civils…",
        "game_round": "Partie {game} · Manche {round}",
        "your_word": "Votre mot secret",
        "spectating": "Spectateur",
        "spectating_text": "Vous êtes arrivé en cours de partie. Vous jouerez à la suivante.",
        "mr_white_card": "Vous êtes Mr. White",
        "no_word": "Vous n'avez pas de mot",
        "no_word_sub": "Écoutez les indices et fondez-vous dans le groupe. Éliminé, vous pourrez deviner le mot "
        "des civils.",
        "eliminated": "🗳️ <b>{name}</b> a été éliminé à la manche {round} : {role}.",
        "tied": "🤝 Égalité à la manche {round} : personne n'est éliminé.",
        "revote": "🤝 Égalité à la manche {round} : nouveau vote entre {names}.",
        "guess_right": "🎯 {name} a proposé « {guess} » : gagné !",
        "guess_wrong": "❌ {name} a proposé « {guess} » : raté.",
        "guess_none": "⌛ {name} n'a rien proposé à temps.",
        "guessing": "🤔 {name} cherche le mot…",
        "out_notice": "👀 Vous avez été éliminé. Regardez la suite de la partie.",
        "your_clue": "Votre indice",
        "clue_ph": "Un indice court…",
        "send": "Envoyer",
        "move_sending": "Envoi… {move}",
        "move_done": "Envoyé : {move}",
        "move_refused": "Non envoyé : {move}. {reason}",
        "ready": "Prêt à voter",
        "ready_done": "Prêt ✓",
        "your_vote": "Votre vote",
        "vote_for": "Voter {name}",
        "end_discussion": "Terminer la discussion",
        "count_votes": "Compter les votes",
        "your_guess": "Votre proposition",
        "guess_ph": "Le mot des civils",
        "guess_send": "Deviner",
        "guess_prompt": "Vous êtes éliminé, mais vous pouvez encore gagner : quel est le mot des civils ?",
        "clues": "Indices",
        "no_clues": "Pas encore d'indice.",
        "round_n": "Manche {n}",
        "players": "Joueurs",
        "watching": "Spectateurs : {names}",
        "tag_host": "hôte",
        "tag_bot": "bot",
        "tag_watching": "spectateur",
        "tag_out": "éliminé",
        "tag_voted": "✓ a voté",
        "tag_ready": "prêt",
        "tag_reconnecting": "reconnexion…",
        "tag_stand_in": "(un bot le remplace)",
        "role_civilian": "civil",
        "role_undercover": "undercover",
        "role_mr_white": "Mr. White",
        "win_civilians": "Les civils gagnent !",
        "win_undercover": "L'undercover gagne !",
        "win_mr_white": "Mr. White gagne !",
        "game_over": "Partie terminée",
        "civ_word": "Mot des civils",
        "uc_word": "Mot de l'undercover",
        "story": "Le récit de la partie",
        "eliminations": "Éliminations, dans l'ordre",
        "elim_line": "Manche {round} : <b>{name}</b>, {role} ({word}), {how}",
        "how_voted": "éliminé au vote",
        "how_left": "parti",
        "no_word_short": "sans mot",
        "votes_by_name": "Votes : {items}",
        "votes_counts": "Voix reçues : {items}",
        "votes_none": "Aucun vote.",
        "voted_for": "{voter} → {target}",
        "revote_label": "nouveau vote",
        "guess_line": "Mr. White ({name}) a proposé « {guess} » : {verdict}",
        "right": "gagné",
        "wrong": "raté",
        "nothing": "rien",
        "play_again": "Rejouer",
        "waiting_new": "En attente d'une nouvelle partie par l'hôte…",
        "removed": "Vous n'êtes plus dans ce salon.",
        "kicked": "L'hôte vous a retiré.",
        "winners": "Gagnants : {names}",
        "error_prefix": "Refusé : ",
        "status_connected": "🟢 Connecté (temps réel)",
        "status_connecting": "🟡 Connexion…",
        "status_fallback": "🔴 Déconnecté (relevé périodique)",
        "status_polling": "⚪ Relevé périodique (WebSocket désactivé)",
        "status_stopped": "⛔ Arrêté",
        "me_room": "Salon {code}",
        "leave_room": "Quitter le salon",
        "tagline": "Undercover, le jeu de mots entre amis. Tout le monde partage un mot secret, sauf l'undercover.",
        "join_title": "Rejoindre un salon",
        "your_name": "Votre nom",
        "name_ph": "ex. {name}",
        "join_button": "Rejoindre",
        "code_length": "Un code de salon a 5 caractères, comme ABCDE.",
        "create_title": "Créer un salon",
        "create_help": "Vous serez l'hôte : invitez vos amis avec le code du salon, ajoutez des bots, lancez la "
        "partie.",
        "create_button": "Créer le salon",
        "landing_footer": "De {min} à {max} joueurs. Donnez des indices sur votre mot sans le dire, puis éliminez "
        "l'undercover.",
        "name_needed": "Indiquez votre nom.",
        "seat_offer": "Vous étiez dans le salon **{code}** sous le nom **{name}** dans ce navigateur.",
        "continue_as": "Continuer en tant que {name}",
        "seat_room_ended": "Le salon {code} est terminé : votre place n'existe plus.",
        "seat_invalid": "Votre place dans le salon {code} n'est plus valable (l'hôte vous a peut-être retiré). "
        "Rejoignez le salon pour jouer.",
        "restoring": "Récupération de votre place…",
        "pack_refused": "Ces mots ne conviennent pas :",
        "pack_two_words": "ligne {line} : « {word} » doit contenir exactement deux mots séparés par une virgule",
        "pack_bad_word": "ligne {line} : « {word} » doit tenir en {limit} lettres, espaces, apostrophes ou tirets "
        "au plus",
        "pack_same_word": "ligne {line} : « {word} » ne peut pas être associé à lui-même",
        "pack_repeated": "ligne {line} : « {word} » figure déjà à la ligne {other}",
        "pack_too_many_lines": "un paquet contient au plus {limit} lignes",
        "pack_empty": "le paquet doit contenir au moins une paire, par exemple : chat, chien",
        "pack_file": "Ou envoyez un fichier texte",
        "pack_file_help": "Un fichier texte UTF-8 (.txt ou .csv), une paire par ligne, {kb} Ko au plus.",
        "use_file": "Utiliser ce fichier",
        "pack_file_missing": "Choisissez d'abord un fichier.",
        "pack_file_too_big": "« {file} » fait {kb} Ko ; un fichier de paquet fait {max} Ko au plus.",
        "pack_file_not_text": "« {file} » n'est pas du texte UTF-8. Enregistrez-le en texte brut UTF-8 et réessayez.",
    },
}


# What a refusal says in French; the backend's own (English) message stays for anything not listed here.
ERRORS_FR = {
    "clue_contains_word": "Votre indice ne doit pas contenir votre mot.",
    "too_many_clues": "Vous avez donné le maximum d'indices pour cette manche.",
    "rate_limited": "Doucement, un indice à la fois.",
    "invalid_vote": "Vous ne pouvez voter que pour un autre joueur encore en jeu (ou, au nouveau vote, un ex aequo).",
    "not_host": "Seul l'hôte peut faire cela.",
    "not_in_game": "Seuls les joueurs encore en jeu peuvent faire cela.",
    "not_guesser": "Seul Mr. White, qui vient d'être éliminé, peut deviner.",
    "wrong_phase": "Ce n'est plus possible : la partie a avancé.",
    "not_enough_players": "Pas assez de joueurs pour commencer (3, ou 5 avec Mr. White).",
    "invalid_pack": "Ces mots ne conviennent pas : {message}",
    "invalid_settings": "Réglage refusé : {message}",
    "unknown_room": "Aucun salon n'a ce code. Vérifiez le code et réessayez.",
    "room_full": "Ce salon est complet.",
    "name_taken": "Quelqu'un dans ce salon porte déjà ce nom. Choisissez-en un autre.",
    "invalid_name": "Un nom compte de 1 à {name_max} caractères, sans caractère de contrôle.",
    "invalid_clue": "Un indice compte de 1 à {clue_max} caractères, sans caractère de contrôle.",
    "network": "Impossible de joindre le serveur de jeu. Est-il démarré ?",
    "unsupported_protocol": "Le serveur de jeu vient d'être mis à jour. Rechargez la page dans un instant.",
}


def error_text(lang: str, code: str, message: str, fallback: str, lines: Sequence[Mapping[str, Any]] = ()) -> str:
    """A refusal in the room's language: French where we have the words, else the English sentence.

    A refused pack comes with one record per bad line (number, reason code, word); those are worded here in
    either language, so the line is named in the room's language rather than in the server's English.
    """
    if code == "invalid_pack" and lines:
        return pack_problems_text(lang, lines)
    if lang == "fr" and code in ERRORS_FR:
        return ERRORS_FR[code].format(message=message, name_max=NAME_MAX, clue_max=CLUE_MAX)
    return fallback


def pack_problems_text(lang: str, lines: Sequence[Mapping[str, Any]]) -> str:
    """One Markdown bullet per bad line; a reason this catalogue does not know keeps the server's sentence."""
    items = []
    for problem in lines:
        key = f"pack_{problem.get('reason')}"
        values = {name: problem.get(name, "") for name in ("line", "limit", "other")}
        values["word"] = _md_escape(str(problem.get("word", "")))
        known = key in MESSAGES[DEFAULT]
        text = t(lang, key, **values) if known else f"line {values['line']}: {problem.get('message', '')}"
        items.append(f"- {text}")
    return "\n".join([t(lang, "pack_refused"), *items])


def _md_escape(text: str) -> str:
    """A user's word shown literally inside Markdown (st.error renders Markdown)."""
    return "".join("\\" + ch if ch in "\\`*_{}[]()<>#+-.!|~$" else ch for ch in text)


def status_labels(lang: str) -> dict[str, str]:
    """The connection light's words by bridge status, for the sidebar and for the bridge to repaint with."""
    labels = {status: t(lang, f"status_{status}") for status in ("connected", "connecting", "fallback", "polling")}
    return {**labels, "idle": labels["connecting"], "stopped": t(lang, "status_stopped")}


def browser_language(accept_language: str | None) -> str:
    """The first language of an Accept-Language header that the game speaks (English when none)."""
    for part in (accept_language or "").split(","):
        primary = part.split(";")[0].strip().split("-")[0].lower()
        if primary in MESSAGES:
            return primary
    return DEFAULT


def language_of(state: Mapping[str, Any]) -> str:
    lang = str((state.get("settings") or {}).get("language") or DEFAULT)
    return lang if lang in MESSAGES else DEFAULT


def t(lang: str, key: str, **values: Any) -> str:
    """The text for `key` in `lang` (English when missing), with `{name}` fields filled in."""
    text = MESSAGES.get(lang, MESSAGES[DEFAULT]).get(key) or MESSAGES[DEFAULT][key]
    return text.format(**values) if values else text
