r"""Player-typed text (names and clues): one normal form, nothing invisible, and a look-alike key.

Why: names are shown to everyone and must identify a seat. Two names that render alike ("Zed" and "Z\u0435d"
with a Cyrillic ie), or a name that renders as nothing (U+3164 HANGUL FILLER), let one player pass for
another. The rules, applied to NFKC text:

- runs of ordinary spaces are collapsed to one and the ends trimmed ("Ann  Lee" is "Ann Lee"): a doubled
  space is a typing slip, not a disguise, and NFKC has already turned the other Unicode spaces that render
  as a plain space (no-break, em, ideographic...) into U+0020; tabs and newlines stay control characters;
- no control, format, private-use, unassigned or surrogate characters (categories Cc, Cf, Co, Cn, Cs, Zl, Zp);
- nothing the Unicode security tables treat as invisible (default-ignorables such as U+034F COMBINING
  GRAPHEME JOINER, fillers, variation selectors, bidi controls): refused rather than silently stripped, so
  what is stored is what the player typed;
- names: at least one letter or digit, and one script (plus Common/Inherited), as UTS #39's "single script"
  restriction level asks;
- uniqueness and the own-word rule compare the UTS #39 confusable skeleton (case-folded), so "Zed", "zed" and
  "\u2124ed" (double-struck Z) are one name, as are an all-Latin
  "Bob" and an all-Cyrillic look-alike; a clue hiding a word behind a look-alike still contains it.

The tables come from `disarm` (Unicode 17 confusables.txt and TR39 skeleton, compiled), not a hand-made map.
"""

from __future__ import annotations

import re
import unicodedata

import disarm

from backend.core.errors import Invalid

_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp"})
_SPACE_RUN = re.compile(" {2,}")


def normal_form(raw: str) -> str:
    """NFKC, runs of spaces collapsed to one, ends trimmed: what is stored and shown of typed text."""
    return _SPACE_RUN.sub(" ", unicodedata.normalize("NFKC", raw)).strip()


def fold(text: str) -> str:
    """Casefolded, accents stripped (NFKD, combining marks dropped), inner spaces collapsed: text compared
    kindly (a guess against the word, a clue against the clues already said)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.split())


def _has_invisible(text: str) -> bool:
    """True when disarm's invisible-character filters would change the text (default-ignorables and kin).

    Only meant for text already in `normal_form`: `strip_format` also collapses whitespace, which on such
    text changes nothing unless a space that is not U+0020 (U+1680 OGHAM SPACE MARK) is left.
    """
    stripped = disarm.strip_format(text)
    stripped = disarm.strip_zero_width_chars(stripped)
    stripped = disarm.strip_variation_selectors(stripped)
    stripped = disarm.strip_bidi(stripped)
    return stripped != text


def clean_text(raw: str, *, field_name: str, max_len: int) -> str:
    """The normal form, refused when empty, too long, or holding control or invisible characters."""
    text = normal_form(raw)
    if not 1 <= len(text) <= max_len:
        raise Invalid(f"{field_name} must be 1-{max_len} characters after trimming", f"invalid_{field_name}")
    if any(unicodedata.category(ch) in _REFUSED_CATEGORIES for ch in text):
        raise Invalid(f"{field_name} must not contain control characters", f"invalid_{field_name}")
    if _has_invisible(text):
        raise Invalid(f"{field_name} must not contain invisible characters", f"invalid_{field_name}")
    return text


def clean_name(raw: str, *, max_len: int) -> str:
    """A name: clean text with a visible letter or digit, written in one script."""
    name = clean_text(raw, field_name="name", max_len=max_len)
    if not any(unicodedata.category(ch)[0] in "LN" for ch in name):
        raise Invalid("a name needs at least one letter or digit", "invalid_name")
    if unicodedata.category(name[0]).startswith("M"):
        raise Invalid("a name cannot start with a combining mark", "invalid_name")
    if disarm.is_mixed_script(name):
        raise Invalid("a name must be written in one script", "invalid_name")
    return name


def skeletons(text: str) -> frozenset[str]:
    """UTS #39 skeletons of the text as typed and case-folded first.

    Why both: the confusable table maps some capitals on their own ("I" to "l"), so "ALICE" and "alice" have
    different skeletons unless case is folded first, while folding first would hide "Il" against "ll".
    """
    return frozenset({disarm.skeleton_key(text), disarm.skeleton_key(text.casefold())})


def looks_alike(a: str, b: str) -> bool:
    return not skeletons(a).isdisjoint(skeletons(b))


def contains_word(text: str, word: str) -> bool:
    """Does `text` contain `word`, compared as skeletons (so look-alikes and case do not hide it)?"""
    keys = skeletons(text)
    return any(key and key in haystack for key in skeletons(word) for haystack in keys)
