"""Text normalisation for matching watched words; pure functions, no I/O.

Three forms of a text are used by the screening engine:

``fold(text)``
    Lower case, accents and other combining marks removed, look-alike letters from
    other scripts mapped to Latin, curly apostrophes and quotes made straight,
    invisible format characters dropped and other non-ASCII punctuation turned into
    spaces. Case-insensitive patterns run on this form. For ASCII text it is
    ``text.lower()``, so positions line up with the original; ``fold_offsets`` maps
    positions back when they do not.

``skeleton_tokens(folded)``
    The set of word "skeletons" in a folded text: look-alike digits and symbols read
    as letters (``0`` as ``o``, ``@`` as ``a``, ...), ``l`` and ``1`` read as ``i``,
    apostrophes dropped, every run of a repeated letter squashed to one, and runs of
    s p a c e d single letters joined. It is a cheap over-approximation used to pick
    which watched terms are worth matching exactly; it never decides on its own.

``normalize_for_matching(phrase)``
    The canonical form of a phrase as a moderator typed it, stored beside each watched
    word so that two spellings of one phrase are one entry: ``"You're  DISGUSTING!"``
    and ``"you are disgusting"`` both become ``"youre disgusting"``.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "CONTRACTION_VARIANTS",
    "LETTER_EQUIVALENTS",
    "fold",
    "fold_offsets",
    "normalize_for_matching",
    "skeleton_tokens",
    "word_skeleton",
]

# Characters that may stand in for a letter in an evasive spelling ("p3rv3rt", "@ss",
# "sh!t"). Used to build the exact patterns; the skeleton below reads them the same way.
LETTER_EQUIVALENTS: dict[str, str] = {
    "a": "a4@",
    "b": "b8",
    "e": "e3",
    "g": "g9",
    "i": "i1!|",
    "l": "l1|",
    "o": "o0",
    "s": "s5$",
    "t": "t7+",
}

# How a symbol or digit inside a word of a moderator's phrase is read.
_LEET_TO_LETTER = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t",
                                 "8": "b", "9": "g", "@": "a", "$": "s", "!": "i", "|": "l",
                                 "+": "t"})

# Contractions: the canonical (apostrophe-free) word and the other spellings of it
# that the exact pattern also accepts. Pairs on the left are folded into the
# canonical word by normalize_for_matching.
CONTRACTION_VARIANTS: dict[str, tuple[tuple[str, ...], ...]] = {
    "youre": (("you", "are"), ("ur",), ("u", "r"), ("u", "are")),
    "you": (("u",),),
    "your": (("ur",),),
    "theyre": (("they", "are"),),
    "isnt": (("is", "not"),),
    "arent": (("are", "not"),),
    "dont": (("do", "not"),),
    "doesnt": (("does", "not"),),
    "didnt": (("did", "not"),),
    "cant": (("can", "not"), ("cannot",)),
    "wont": (("will", "not"),),
    "youll": (("you", "will"),),
    "youve": (("you", "have"),),
    "im": (("i", "am"),),
    "hes": (("he", "is"),),
    "shes": (("she", "is"),),
    "its": (("it", "is"),),
    "thats": (("that", "is"),),
    "whats": (("what", "is"),),
}
_CONTRACT_PAIRS: dict[tuple[str, str], str] = {
    variant: canonical
    for canonical, variants in CONTRACTION_VARIANTS.items()
    for variant in variants
    if len(variant) == 2 and canonical not in ("you", "your")
}
_CONTRACT_SINGLE = {"cannot": "cant"}

_APOSTROPHES = "\u2019\u2018\u02bc\u00b4\u2032\uff07"
_QUOTES = "\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033\uff02"
# Letters that NFKD leaves alone but that read as a Latin letter, including the
# Cyrillic and Greek look-alikes used to slip past filters ("реrvеrt" in Cyrillic).
_LOOKALIKES: dict[str, str] = {
    "\u0131": "i", "\u00f8": "o", "\u0142": "l", "\u0111": "d", "\u00e6": "ae", "\u0153": "oe",
    "\u00fe": "th", "\u00f0": "d",
    # Cyrillic
    "\u0430": "a", "\u0435": "e", "\u043e": "o", "\u0440": "p", "\u0441": "c", "\u0443": "y",
    "\u0445": "x", "\u0456": "i", "\u0458": "j", "\u0455": "s", "\u0501": "d", "\u04bb": "h",
    "\u0432": "b", "\u043a": "k", "\u043c": "m", "\u043d": "h", "\u0442": "t",
    # Greek
    "\u03b1": "a", "\u03b5": "e", "\u03b9": "i", "\u03ba": "k", "\u03bd": "v", "\u03bf": "o",
    "\u03c1": "p", "\u03c4": "t", "\u03c5": "u", "\u03c7": "x",
}


def _fold_char(ch: str) -> str:
    """Fold one character (see the module docstring); may return "" or several chars."""
    if ch in _APOSTROPHES:
        return "'"
    if ch in _QUOTES:
        return '"'
    if ch.isascii():
        return ch.lower()
    out: list[str] = []
    for part in unicodedata.normalize("NFKD", ch):
        category = unicodedata.category(part)
        if category in ("Mn", "Me", "Cf"):
            continue  # accents, zero-width joiners, soft hyphens, direction marks
        if part.isascii():
            out.append(part.lower())
            continue
        if category[0] in "PSZC":
            out.append("\n" if category in ("Zl", "Zp") else " ")
            continue
        for low in part.casefold():
            out.append(_LOOKALIKES.get(low, low))
    return "".join(out)


class _FoldTable(dict[int, str]):
    """``str.translate`` table that folds each new code point once, then remembers it."""

    def __missing__(self, codepoint: int) -> str:
        value = _fold_char(chr(codepoint))
        if len(self) < 200_000:
            self[codepoint] = value
        return value


_FOLD_TABLE = _FoldTable()


def fold(text: str) -> str:
    """Return ``text`` folded for case- and accent-insensitive matching (module docstring)."""
    if text.isascii():
        return text.lower()
    return text.translate(_FOLD_TABLE)


def fold_offsets(text: str) -> list[int]:
    """For each character of ``fold(text)``, the index of the character it came from."""
    if text.isascii():
        return list(range(len(text)))
    offsets: list[int] = []
    for index, ch in enumerate(text):
        offsets.extend([index] * len(_FOLD_TABLE[ord(ch)]))
    return offsets


# --- skeletons -------------------------------------------------------------------

# Every ASCII character that is not a letter or digit separates words, except the symbols
# that stand in for letters, and the apostrophe, which is dropped ("you're" -> "youre").
_SKELETON_TABLE: dict[int, str | None] = {code: " " for code in range(128) if not chr(code).isalnum()}
_SKELETON_TABLE.update({ord(k): v for k, v in {
    "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
    "@": "a", "$": "s", "|": "i", "+": "t", "l": "i"}.items()})
_SKELETON_TABLE[ord("'")] = None

# "!" reads as "i" only where a letter or digit follows ("sh!t"), not as punctuation.
_BANG_IN_WORD = re.compile(r"!(?=[^\W_])")
# Three or more single characters separated by spaces: "p e r v e r t".
_SPACED_RUN = re.compile(r" [^\W_](?= )(?: +[^\W_](?= )){2,}")
_REPEATS = re.compile(r"(.)\1+")


class _SquashCache(dict[str, str]):
    """token -> token with every run of a repeated character squashed to one."""

    def __missing__(self, token: str) -> str:
        value = _REPEATS.sub(r"\1", token)
        if len(self) < 200_000:
            self[token] = value
        return value


_SQUASHED = _SquashCache()
# Single-character tokens other than the words "a" and "i": a hint of s p a c e d letters.
_UNUSUAL_SINGLES = frozenset("bcdefghjkmnopqrstuvwxyz0256")


def word_skeleton(word: str) -> str:
    """The skeleton of one already-normalised word, as ``skeleton_tokens`` would see it."""
    return _SQUASHED[word.translate(_SKELETON_TABLE).replace(" ", "")]


def skeleton_tokens(folded: str) -> tuple[set[str], tuple[str, ...]]:
    """Return the skeleton tokens of a folded text, and the joined spaced-letter runs.

    The runs (``"pervert"`` from ``"p . e . r . v . e . r . t"``) are also among the
    tokens; they are returned separately because a phrase written entirely in spaced
    letters joins into one run, which callers search for substrings.
    """
    if "!" in folded:
        folded = _BANG_IN_WORD.sub("i", folded)
    if "''" in folded:  # only a single apostrophe joins letters ("you're")
        folded = folded.replace("''", "  ")
    skeleton = folded.translate(_SKELETON_TABLE)
    raw = set(skeleton.split())
    tokens = set(map(_SQUASHED.__getitem__, raw))
    runs: tuple[str, ...] = ()
    if not raw.isdisjoint(_UNUSUAL_SINGLES):
        found = _SPACED_RUN.findall(" " + skeleton + " ")
        if found:
            runs = tuple(_SQUASHED[run.replace(" ", "")] for run in found)
            tokens.update(runs)
    return tokens, runs


# --- canonical phrases -----------------------------------------------------------

_EDGE_PUNCT = ".,;:!?\"'()[]{}<>*~`^_-\u2026/\\"
_NON_WORD = re.compile(r"[\W_]+")


def normalize_for_matching(text: str) -> str:
    """Return the canonical form of a watched phrase (see the module docstring).

    Case, accents, look-alike letters and symbol substitutions inside words are
    folded ("Sh!t" -> "shit", "@ss" -> "ass"); apostrophes are dropped ("you're" ->
    "youre") and common two-word forms contracted ("you are" -> "youre"); any other
    punctuation or whitespace separates words, and a phrase typed as spaced single
    letters becomes one word ("p.e.r.v.e.r.t" -> "pervert"). Numbers on their own stay
    numbers. The result is "" for text with no letters or digits.
    """
    folded = _BANG_IN_WORD.sub("i", fold(text))
    words: list[str] = []
    for raw in folded.split():
        token = raw.strip(_EDGE_PUNCT).replace("'", "")
        if not token:
            continue
        if any(ch.isalpha() for ch in token):
            token = token.translate(_LEET_TO_LETTER)
        words.extend(part for part in _NON_WORD.split(token) if part)
    if len(words) >= 3 and all(len(word) == 1 for word in words):
        words = ["".join(words)]
    out: list[str] = []
    index = 0
    while index < len(words):
        pair = (words[index], words[index + 1]) if index + 1 < len(words) else None
        if pair is not None and pair in _CONTRACT_PAIRS:
            out.append(_CONTRACT_PAIRS[pair])
            index += 2
            continue
        out.append(_CONTRACT_SINGLE.get(words[index], words[index]))
        index += 1
    return " ".join(out)
