"""The screening engine: what happens to a piece of member text before anyone else sees it.

Pure and database-free. ``forum.moderation.pipeline`` loads the moderators' watched
words, builds a :class:`ScreenContext` and calls :meth:`Screener.screen`; every post,
reply, edit, title and chat line goes through it. The verdict says what to do with
the text (publish, flag, ask the author to confirm, hold for review, refuse), every
reason found, the text to store and what to tell the author.

Rules, in the order a verdict is decided (``refuse > confirm > hold > flag > publish``):

* **Watched words** (:class:`WatchedTerm`): matched whole-word, ignoring case, accents,
  look-alike letters and symbol substitutions (``p3rv3rt``, ``@ss``), repeated letters
  (``perrrvert``), s p a c e d or p.u.n.c.t.u.a.t.e.d letters, apostrophes and common
  contractions (``you're`` = ``you are`` = ``ur``), a plural ``s``, and any whitespace or
  punctuation (line breaks included) between the words of a phrase. Word boundaries
  are respected: ``rapist`` does not match "therapist", ``ass`` does not match
  "assessment". Each term's action: ``refuse`` (nothing stored, the author is told
  why), ``hold`` (stored hidden for review), ``flag`` (published and queued),
  ``replace`` (the match is replaced in the stored text, which is published).
* **Links by new members**: with ``allow_links=False`` a URL or bare domain is refused,
  kindly.
* **Identifying information** (phone numbers, email addresses, street addresses and UK
  postcodes, social-media handles and profile links, a full name with a place): the
  author is asked to confirm; once confirmed the text is held for review.
* **Judgment**: second-person judging of another member ("you should be ashamed",
  "just leave him", "what did you expect") asks the author to confirm; once confirmed
  it is published and flagged. Self-directed shame ("I feel disgusting") never
  triggers it, nor do reported speech ("he told me you're the problem"), negations
  ("it doesn't mean you're weak"), block quotes or warm uses ("enjoy it, you deserve
  it").
* **Crisis** (suicidal thoughts, self-harm, danger from someone else): never refused
  and never sent back for confirmation; the text is flagged (or held, if another rule
  would refuse or hold it) at the highest priority and ``crisis`` is set so the caller
  shows support lines at once.
* **New members**: posts and replies (not chat, edits, titles or warnings) are held.
* **Content warnings** (``kind="warning"``) pass every rule but crisis: a warning names
  the hard topics below it ("suicide, self-harm"); the text it sits on is screened for
  crisis on its own.

Moderators skip the new-member hold, the link rule, the judgment nudge and the
identifying-information nudge (the labels are still reported). Refuse, hold and flag
terms apply to moderators as to everyone: a moderator can describe a rule without
typing a slur, and one list that applies to all is easier to trust.

No offensive-language classifier: the offline ones on PyPI (``alt-profanity-check`` and
the like: a linear model over word counts, trained on general online comments) score
how offensive words are, not whether a member is being judged, and the words this
community must be able to use (sex, porn, masturbation, relapse, acting out) are the
ones such a model learnt to score high. Its signal would mostly be noise in the queue,
for a scikit-learn dependency; the watched words and the rules below are explicit,
testable and editable by moderators instead.

Performance: every pattern is compiled once (a watched term's on first use, the rules
at import). A cheap skeleton of the
text (see ``forum.moderation.normalize``) picks the few watched terms worth matching
exactly, and each rule is guarded by plain substring checks, so screening a
2,000-character text costs a small fraction of a millisecond (``bench/screening.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import groupby
from typing import Final, Literal

from forum.moderation.normalize import (
    CONTRACTION_VARIANTS,
    LETTER_EQUIVALENTS,
    fold,
    fold_offsets,
    normalize_for_matching,
    skeleton_tokens,
    word_skeleton,
)

__all__ = [
    "PRIORITY_CRISIS",
    "PRIORITY_IDENTIFYING",
    "PRIORITY_JUDGMENT",
    "PRIORITY_NEW_MEMBER",
    "PRIORITY_WATCHED",
    "Action",
    "Decision",
    "ScreenContext",
    "Screener",
    "Verdict",
    "WatchedTerm",
    "normalize_for_matching",
    "screen",
]

Action = Literal["refuse", "hold", "flag", "replace"]
Decision = Literal["publish", "flag", "confirm", "hold", "refuse"]
Kind = Literal["post", "reply", "edit", "chat", "title", "warning"]

PRIORITY_CRISIS: Final = 100
PRIORITY_IDENTIFYING: Final = 50
PRIORITY_JUDGMENT: Final = 30
PRIORITY_WATCHED: Final = 20
PRIORITY_NEW_MEMBER: Final = 10

DEFAULT_REPLACEMENT: Final = "***"

PII_LABELS: Final = ("pii:phone", "pii:email", "pii:address", "pii:handle", "pii:profile-link",
                     "pii:name-place")


@dataclass(frozen=True)
class WatchedTerm:
    """A moderator's watched word or phrase and what to do when it appears.

    ``phrase`` is kept as typed; matching uses ``normalize_for_matching(phrase)``.
    ``replacement`` is used only by ``action == "replace"`` (``"***"`` when None).
    ``label`` names the kind of language ("slur", "insult", "shaming", ...) and becomes
    the verdict label ``"watched:<label>"``.
    """

    phrase: str
    action: Action
    replacement: str | None = None
    label: str = "watched"


@dataclass(frozen=True)
class ScreenContext:
    """Who wrote the text and where it goes.

    ``author_is_new``: fewer than ``NEW_MEMBER_HELD_POSTS`` (app config) published posts.
    ``confirmed``: the author already saw a judgment or identifying-information nudge
    and chose to post anyway. ``allow_links``: False for new members.
    ``known_usernames``: forum pseudonyms; ``@name`` for one of these is a mention, not
    a social-media handle (compared case-insensitively).
    """

    kind: Kind
    author_is_new: bool = False
    author_is_moderator: bool = False
    confirmed: bool = False
    allow_links: bool = True
    known_usernames: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Verdict:
    """The outcome of screening one text.

    ``decision``: ``publish`` (store and show), ``flag`` (store, show, queue for review),
    ``confirm`` (store nothing; show ``message`` and let the author rephrase or confirm,
    then screen again with ``confirmed=True``), ``hold`` (store hidden, queue), ``refuse``
    (store nothing; show ``message``).
    ``labels``: every reason found, including ones that did not decide the outcome
    (e.g. a moderator's exempted phone number), without duplicates.
    ``text``: the text to store, with ``replace`` terms applied.
    ``message``: what the author is told, or None when there is nothing to say.
    ``priority``: the queue priority for ``hold`` and ``flag`` (crisis 100, identifying
    information 50, judgment 30, watched words 20, new member 10); 0 for the others.
    ``crisis``: show crisis support to the author right away.
    ``confirm_kind``: ``"identifying"`` or ``"judgment"`` when ``decision == "confirm"``
    (identifying wins when both apply; the message then mentions both).
    ``matched_terms``: the watched phrases found, as the moderators typed them.
    """

    decision: Decision
    labels: tuple[str, ...]
    text: str
    message: str | None
    priority: int
    crisis: bool
    confirm_kind: str | None
    matched_terms: tuple[str, ...] = ()


# --- messages --------------------------------------------------------------------

_TERM_REASONS: Final = {
    "slur": "a slur",
    "insult": "words that attack a person",
    "threat": "words that could push someone toward harming themselves",
    "shaming": "shaming words aimed at someone",
}
_REFUSE_TERM: Final = ("We couldn't post this because it contains {reason}, which Haven doesn't allow. "
                       "What you want to say still matters: please reword it and try again.")
_REFUSE_LINK: Final = ("New members can share links once their first posts have been approved. "
                       "Please take the link out for now, and thank you for understanding.")
_CONFIRM_JUDGMENT: Final = ("This might land as judgment. Would you like to rephrase? "
                            "Everyone here is carrying something heavy.")
_CONFIRM_IDENTIFYING: Final = (
    "This might identify you or someone else (a phone number, email, address, social-media "
    "account or a full name with a place). Haven stays safe because it is anonymous. "
    "Would you like to take it out? If you post anyway, a moderator will check it first.")
_HOLD_IDENTIFYING: Final = ("Thank you. Because this might identify someone, a moderator will check "
                            "it before it appears.")
_HOLD_WATCHED: Final = "Thank you. A moderator will read this before it appears."
_HOLD_NEW_MEMBER: Final = ("Thank you for posting. While you're new, a moderator reads each post "
                           "before it appears; it won't be long.")
_CRISIS: Final = ("It sounds like you're going through something really painful. You don't have "
                  "to face it alone: the support lines shown here can help right now.")


# --- watched terms ---------------------------------------------------------------

# Word boundaries agree with how ``skeleton_tokens`` splits words: "@", "$", "|" and "+"
# may be letters, so they join words; "!" joins only when a letter or digit follows
# ("sh!t", but "pervert!"), also after an apostrophe ("ass'!a" is one word, as "ass'ia"
# is); an apostrophe is looked through ("'pervert'", "pervert's").
_WORDISH: Final = r"(?:[^\W_]|[@$|+]|!(?=[^\W_]))"
_SEPARATOR: Final = r"(?:[^\w@$|+!']|_|!(?![^\W_]))"
_WORD_SEP: Final = rf"(?:{_SEPARATOR}|(?<!{_WORDISH})'|'(?!{_WORDISH}))+"
_LETTER_SEP: Final = _SEPARATOR + "{1,3}"
# Placed after a term's first character (a look-behind must have a fixed width).
_NOT_AFTER_WORD: Final = rf"(?<!{_WORDISH}.)(?<!{_WORDISH}'.)(?<!![^\W_])"
_NOT_BEFORE_WORD: Final = rf"(?!{_WORDISH})(?!'{_WORDISH})(?!![^\W_])"


def _plain_class(ch: str) -> str:
    equivalents = LETTER_EQUIVALENTS.get(ch)
    return "[" + re.escape(equivalents) + "]" if equivalents else re.escape(ch)


def _char_class(ch: str) -> str:
    """One letter and its stand-ins; "!" stands for "i" only before another letter."""
    if ch == "i":
        return r"(?:[i1|]|!(?=[^\W_]))"
    return _plain_class(ch)


def _repeat(count: int) -> str:
    return "+" if count == 1 else f"{{{count},}}"


def _contiguous_rest(word: str) -> str:
    """Pattern for ``word`` after its first character: repeats and apostrophes allowed."""
    runs = [(ch, len(list(group))) for ch, group in groupby(word)]
    first, count = runs[0]
    parts = [_char_class(first) + ("*" if count == 1 else f"{{{count - 1},}}")]
    parts.extend("'?" + _char_class(ch) + _repeat(n) for ch, n in runs[1:])
    return "".join(parts)


def _word_forms(word: str) -> list[tuple[str, str]]:
    """Each way ``word`` may be written, as (first character, pattern for the rest)."""
    forms = [(word[0], _contiguous_rest(word))]
    if len(word) >= 3:  # s p a c e d or p.u.n.c.t.u.a.t.e.d letters, each may repeat
        spaced = []
        for index, (ch, count) in enumerate((ch, len(list(group))) for ch, group in groupby(word)):
            letter = _LETTER_SEP + _char_class(ch)
            spaced.append(letter * (count - 1 if index == 0 else count) + f"(?:{letter})*")
        forms.append((word[0], "".join(spaced)))
    for variant in CONTRACTION_VARIANTS.get(word, ()):
        head, *others = variant
        rest = _contiguous_rest(head) + "".join(
            _WORD_SEP + _char_class(other[0]) + _contiguous_rest(other) for other in others)
        forms.append((head[0], rest))
    return forms


def _term_pattern(words: list[str]) -> str:
    """The exact pattern for a normalised phrase, shaped so ``re`` can skip ahead fast.

    It starts with a character class (the first letter and its stand-ins), which lets
    the regex engine jump between candidate positions instead of trying every one.
    """
    by_first: dict[str, list[str]] = {}
    for first, rest in _word_forms(words[0]):
        by_first.setdefault(first, []).append(rest)
    if len(by_first) == 1:
        ((first, rests),) = by_first.items()
        head = _char_class(first) + _NOT_AFTER_WORD + "(?:" + "|".join(rests) + ")"
    else:
        union = "[" + "".join(re.escape(LETTER_EQUIVALENTS.get(ch, ch)) for ch in by_first) + "]"
        branches = "|".join(f"(?<={_plain_class(first)})(?:{'|'.join(rests)})"
                            for first, rests in by_first.items())
        head = union + _NOT_AFTER_WORD + "(?:" + branches + ")"
    tail = "".join(
        _WORD_SEP + "(?:" + "|".join(_char_class(first) + rest for first, rest in _word_forms(word)) + ")"
        for word in words[1:])
    last = words[-1]
    plural = "(?:'?e?s)?" if last[-1].isalpha() and len(last) >= 3 else ""
    return head + tail + plural + _NOT_BEFORE_WORD


def _term_keys(words: list[str]) -> set[str]:
    """Skeleton tokens of which at least one must be in any text the term matches."""
    plain = [word for word in words if word not in CONTRACTION_VARIANTS]
    if plain:
        key = max(plain, key=lambda word: len(word_skeleton(word)))
        return {word_skeleton(key), word_skeleton(key + "s"), word_skeleton(key + "es")}
    first = words[0]
    return {word_skeleton(first)} | {word_skeleton(variant[0]) for variant in CONTRACTION_VARIANTS[first]}


class _CompiledTerm:
    """A watched term and its exact pattern, compiled the first time a text may contain it.

    Most terms never come up in most texts, so compiling lazily keeps building a
    Screener cheap. Two threads may both compile it; either result is kept.
    """

    __slots__ = ("_pattern", "source", "term")

    def __init__(self, term: WatchedTerm, source: str) -> None:
        self.term = term
        self.source = source
        self._pattern: re.Pattern[str] | None = None

    @property
    def pattern(self) -> re.Pattern[str]:
        pattern = self._pattern
        if pattern is None:
            pattern = self._pattern = re.compile(self.source)
        return pattern


# --- judgment and crisis rules ---------------------------------------------------

Check = Callable[[str, re.Match[str]], bool]


@dataclass(frozen=True)
class _Rule:
    """A phrase pattern, run only around its anchors.

    Every match of ``pattern`` contains one of ``words`` as a whole word (kept as
    skeletons, so the rule is skipped at the cost of a set lookup when none is in the
    text) and one of ``anchors`` as a substring. The pattern is searched in
    a window (``before``, ``after``) around each anchor found by ``str.find``, far faster than
    scanning the whole text with a pattern that begins with ``\\b``. A ``scan`` rule
    (whose pattern starts with a literal) is searched over the whole text instead,
    when any anchor is present. ``check`` may reject a match (reported speech, ...).
    """

    anchors: tuple[str, ...]
    words: frozenset[str]
    pattern: re.Pattern[str]
    check: Check | None = None
    before: int = 60  # how far a match may start before its anchor
    after: int = 60  # how far it (and its lookaheads) may reach past the anchor
    scan: bool = False


_YOU: Final = r"(?:you|u|ya)"
# "you're", "you are", "ur", "u r": shaped to start with a literal so the regex engine can skip ahead.
_YOU_ARE_FAST: Final = (r"(?:you(?<![^\W_]you)(?:\s*'\s*re|re|\s+are)|ur(?<![^\W_]ur)"
                        r"|u(?<![^\W_]u)\s+(?:r|are))")
_FILLER: Final = (r"(?:(?:so|such|really|just|being|literally|honestly|pretty|totally|completely|too|"
                  r"clearly|obviously|still|kind\s+of|a\s+bit|kinda|sooo+)\s+)*")
_JUDGING_WORDS: Final = (
    r"weak|weak[\s-]*willed|pathetic|disgusting|gross|selfish|stupid|idiotic|an\s+idiot|idiot|"
    r"(?:a\s+)?fool|foolish|naive|delusional|(?:part\s+of\s+)?the\s+problem|(?:a\s+)?doormat|"
    r"(?:an\s+)?enabler|enabling\s+(?:him|her|them)|(?:a\s+)?liar|(?:a\s+)?hypocrite|(?:a\s+)?coward|"
    r"spineless|crazy|insane|ridiculous|dramatic|overreacting|over\s*reacting|overdramatic|hysterical|"
    r"paranoid|controlling|bitter|toxic|to\s+blame|in\s+denial|making\s+excuses|kidding\s+yourself|"
    r"lying\s+to\s+yourself|fooling\s+yourself|playing\s+the\s+victim|asking\s+for\s+it|no\s+better|"
    r"(?:just\s+)?as\s+bad|(?:a\s+)?joke|(?:a\s+)?disgrace|worthless|useless|hopeless|pitiful|"
    r"(?:a\s+)?pushover|ugly|(?:a\s+)?loser")
_FIRST_PERSON_SUBJECT: Final = re.compile(r"\b(?:i|we)\b")
_REPORTED_OR_NEGATED: Final = re.compile(
    r"\b(?:said|say|says|saying|told|tell|tells|telling|called|call|calls|yelled|yells|screamed|"
    r"screams|shouted|shouts|texted|texts|wrote|writes|asked|asks|accused|accuses|blamed|blames|"
    r"hear|heard|hears|hearing|not|never|no\s+one|no-one|nobody|none|nothing|hardly|dont|doesnt|didnt|isnt|"
    r"wont|cant|aint)\b|n't\b|\b(?:you|u)\s+(?:\w+\s+)?(?:think|feel|felt|believe|worry|fear)\b")
_WARMTH: Final = re.compile(
    r"\b(?:enjoy|congrat\w*|proud|well\s+done|treat|celebrat\w*|earned|happ\w*|rest|break|peace|"
    r"love|hugs?|brave|courage\w*|strength|strong|kind|good\s+for\s+you|wonderful|amazing|great)\b|"
    r"[\u2665\u2764]|<3|:\)")
_CLAUSE_END: Final = re.compile(r"[.!?;\n]")
# "..., he says." after the words: someone else's words, reported.
_TRAILING_ATTRIBUTION: Final = re.compile(
    r"^\W*,\s*(?:he|she|they|my\s+\w+|his\s+\w+|her\s+\w+)\s+(?:says|said|tells\s+me|told\s+me|keeps\s+saying|"
    r"would\s+say|yelled|screamed|texted|wrote)\b")


def _clause_before(folded: str, start: int) -> str:
    """The part of the sentence (at most 80 characters) before ``start``."""
    window_start = max(0, start - 80)
    window = folded[window_start:start]
    cut = max(window.rfind(ch) for ch in ".!?;\n")
    return window[cut + 1:] if cut >= 0 else window


def _sentence_after(folded: str, end: int) -> str:
    match = _CLAUSE_END.search(folded, end, end + 120)
    return folded[end:match.start() if match else end + 120]


def _judges_someone(folded: str, match: re.Match[str]) -> bool:
    """False for reported speech, negation, quotation and block quotes."""
    start = match.start()
    line_start = folded.rfind("\n", 0, start) + 1
    if folded[line_start:start].lstrip().startswith(">"):
        return False
    clause = _clause_before(folded, start)
    if clause.count('"') % 2 == 1:
        return False
    stripped = clause.rstrip()
    if stripped.endswith("'") and (len(stripped) == 1 or not stripped[-2].isalnum()):
        return False
    if _TRAILING_ATTRIBUTION.match(_sentence_after(folded, match.end())):
        return False
    return _REPORTED_OR_NEGATED.search(clause) is None


def _judges_not_warmly(folded: str, match: re.Match[str]) -> bool:
    """"You deserve it" is judgment unless the sentence around it is warm."""
    if not _judges_someone(folded, match):
        return False
    after = folded[match.end():match.end() + 3]
    if after.lstrip().startswith("!"):
        return False
    sentence = _clause_before(folded, match.start()) + _sentence_after(folded, match.end())
    return _WARMTH.search(sentence) is None


def _judges_not_self(folded: str, match: re.Match[str]) -> bool:
    """"I just want to leave him" is the author's own wish, not advice to someone."""
    if not _judges_someone(folded, match):
        return False
    return _FIRST_PERSON_SUBJECT.search(_clause_before(folded, match.start())) is None


# "If you're feeling suicidal, call ...", "Are you having suicidal thoughts?": a member
# reaching out to others, not one in crisis. Only the few words right before count, so
# "if you knew how much I want to die" is still a crisis.
_ADDRESSING_OTHERS: Final = re.compile(
    r"(?:\b(?:if|when|whenever)\s+(?:you|u|anyone|someone|somebody|they)|\b(?:are|were)\s+(?:you|u)"
    r"|(?<!i'm )(?<!i am )\b(?:anyone|anybody|someone|somebody|those|people)\b)(?:'re|'ve|\s+\w+){0,3}\s*$")


def _concerns_the_author(text: str, match: re.Match[str]) -> bool:
    """False when the sentence addresses others about crisis, rather than speaking of one."""
    return _ADDRESSING_OTHERS.search(_clause_before(text, match.start())) is None


def _rule(anchors: tuple[str, ...], words: tuple[str, ...], pattern: str,
          check: Check | None = _judges_someone, *, before: int = 60, after: int = 60,
          scan: bool = False) -> _Rule:
    return _Rule(anchors, frozenset(map(word_skeleton, words)), re.compile(pattern), check, before, after,
                 scan)


JUDGMENT_RULES: Final[tuple[_Rule, ...]] = (
    _rule(("you", "ur", "u "), ("you", "youre", "ur", "u"),
          rf"{_YOU_ARE_FAST}\s+{_FILLER}(?:a\s+|an\s+|the\s+)?(?:{_JUDGING_WORDS})\b", scan=True),
    _rule(("ashamed",), ("ashamed",),
          rf"\b{_YOU}\s+(?:really\s+|honestly\s+)?(?:should|ought\s+to)\s+be\s+(?:so\s+)?ashamed\b",
          before=50, after=2),
    _rule(("shame",), ("shame",), r"\bshame\s+on\s+(?:you|u)\b", before=2, after=12),
    _rule(("how could", "how can", "how would"), ("how",),
          rf"\bhow\s+could\s+{_YOU}\b(?!\s+(?:not\b|n't|possibly\s+(?:have\s+)?know|(?:have\s+)?(?:known|"
          r"know|seen|see|guess|guessed|tell|told|blame|expect|expected|predict|stop|prevent)\b))"
          rf"|\bhow\s+(?:can|would)\s+{_YOU}\s+(?:even\s+|possibly\s+|still\s+)*(?:stay|staying|forgive|"
          r"trust|believe|defend|look\s+at|be\s+with|live\s+with|put\s+up\s+with|be\s+so)\b",
          before=2, after=70),
    _rule(("deserve",), ("deserve", "deserved"),
          rf"\b{_YOU}\s+(?:totally\s+|kind\s+of\s+|really\s+|probably\s+|honestly\s+)?deserved?\s+"
          r"(?:it|this|that|all\s+of\s+(?:it|this|that)|what\s+(?:you|u)\s+(?:get|got)|what\s+happened|"
          r"everything\s+(?:you|u)\s+(?:get|got)|to\s+be\s+(?:cheated\s+on|lied\s+to|hurt|alone|miserable|"
          rf"left|dumped|punished))\b|\b{_YOU}\s+got\s+what\s+(?:you|u)\s+deserved?\b",
          _judges_not_warmly, before=30, after=50),
    _rule(("chose", "choose", "picked", "made"), ("chose", "choose", "picked", "made"),
          rf"\b{_YOU}\s+(?:chose|choose|picked)\s+(?:this|to\s+stay|to\s+marry\s+(?:him|her|them)|"
          r"him|her|them|this\s+life)\b(?!\s+(?:path|journey|recovery|over))"
          rf"|\b{_YOU}\s+made\s+your\s+(?:own\s+)?(?:bed|choice)\b",
          _judges_not_warmly, before=10, after=40),
    _rule(("leave",), ("leave",),
          r"\bjust\s+leave\s+(?:him|her|them)\b|\bleave\s+(?:him|her|them)\s+already\b"
          rf"|\bwhy\s+(?:don'?t|do\s+not)\s+{_YOU}\s+(?:just\s+)?leave\b",
          _judges_not_self, before=30, after=16),
    _rule(("why",), ("why",),
          rf"\bwhy\s+(?:would|do|are)\s+{_YOU}\s+(?:even\s+|still\s+)*(?:stay|staying|with\s+(?:him|her|them))\b",
          before=2, after=40),
    _rule(("expect",), ("expect",), rf"\bwhat\s+(?:else\s+)?(?:did|do)\s+{_YOU}\s+expect\b", before=30, after=2),
    _rule(("yourself",), ("yourself",),
          rf"\b{_YOU}\s+(?:brought|bring)\s+(?:this|it|all\s+this|all\s+of\s+this)\s+on\s+yourself\b"
          rf"|\b{_YOU}\s+(?:only\s+)?(?:have|had)\s+(?:only\s+)?yourself\s+to\s+blame\b"
          r"|\bstop\s+feeling\s+sorry\s+for\s+yourself\b"
          rf"|\b{_YOU}\s+(?:did|do)\s+this\s+to\s+yourself\b",
          before=40, after=12),
    _rule(("ask",), ("asked", "asking"),
          rf"\b{_YOU}\s+(?:were\s+|was\s+)?ask(?:ed|ing)\s+for\s+(?:it|this)\b", before=12, after=16),
    _rule(("fault",), ("fault",),
          r"\b(?:it'?s|it\s+is|this\s+is|that'?s|that\s+is)\s+(?:all\s+|partly\s+|really\s+|also\s+)?"
          r"(?:your|ur)\s+(?:own\s+)?fault\b",
          before=40, after=2),
    _rule(("blame",), ("blame",),
          rf"\b{_YOU}\s+(?:have|had)\s+no\s*(?:one|body)\s+(?:else\s+)?(?:but\s+yourself\s+)?to\s+blame\b",
          before=50, after=2),
    _rule(("wonder",), ("wonder",),
          r"\bno\s+wonder\s+(?:he|she|they|your\s+(?:husband|wife|partner|spouse|boyfriend|girlfriend))\s+"
          r"(?:cheated|cheats|strayed|strays|left|leaves|lied|lies|looks?\s+at\s+porn|looked\s+at\s+porn|"
          r"watch(?:es|ed)?\s+porn|went\s+elsewhere|acted\s+out|acts\s+out|relapsed)\b",
          before=4, after=50),
    _rule(("over it", "grow up", "man up", "toughen up", "get a grip", "move on"),
          ("over", "grow", "man", "toughen", "grip", "move"),
          rf"(?:^|(?<=[.!?\n])|\b{_YOU}\s+(?:need|have|got|ought)\s+to\s+)\s*(?:just\s+|so\s+|honestly\s+|"
          r"seriously\s+)?(?:get\s+over\s+it|grow\s+up|man\s+up|toughen\s+up|get\s+a\s+grip|"
          r"move\s+on\s+already)\b",
          before=40, after=12),
    _rule(("stop", "quit"), ("stop", "quit"),
          rf"(?:^|(?<=[.!?\n])|\b{_YOU}\s+(?:need|have|got|ought)\s+to\s+)\s*(?:just\s+|so\s+|please\s+|"
          r"honestly\s+)?(?:stop|quit)\s+(?:whining|complaining|playing\s+the\s+victim|making\s+excuses|"
          r"being\s+(?:so\s+)?(?:dramatic|sensitive|weak|naive|a\s+victim|a\s+doormat|a\s+baby))\b",
          before=40, after=36),
    _rule(("wrong with",), ("wrong",),
          r"\bwhat(?:'?s|\s+is)\s+(?:even\s+)?wrong\s+with\s+(?:you|u)\b", before=16, after=6),
    _rule(("disgust", "sicken", "make me sick"), ("disgust", "sicken", "sick"),
          rf"\b{_YOU}\s+(?:really\s+|honestly\s+|literally\s+)?(?:disgust|sicken)\s+me\b"
          rf"|\b{_YOU}\s+make\s+me\s+(?:sick|want\s+to\s+(?:vomit|puke|throw\s+up))\b",
          before=20, after=30),
    _rule(("should have", "should've", "shouldve"), ("should", "shouldve"),
          rf"\b{_YOU}\s+should(?:'?ve|\s+have)\s+(?:known|seen\s+(?:it|this|the\s+signs)(?:\s+coming)?|"
          r"left\s+(?:him|her|them|sooner|years\s+ago|long\s+ago)|been\s+(?:more\s+)?(?:careful|smarter))\b",
          before=6, after=40),
    _rule(("are you", "are u"), ("are",),
          r"\bare\s+(?:you|u)\s+(?:stupid|blind|insane|dumb|naive|crazy|delusional|an\s+idiot)\b",
          before=2, after=14),
)

_PARTNER: Final = (r"(?:he|she|they|my\s+(?:husband|wife|partner|spouse|boyfriend|girlfriend|ex|bf|gf|"
                   r"fiance|fiancee|dad|father|mom|mum|mother|son|brother))")
_HARM_VERBS: Final = r"(?:hit|hurt|kill|beat|harm|attack|rape|choke|strangle|shoot|stab)"
_VIOLENCE: Final = ("hit", "hits", "beat", "beats", "choked", "chokes", "strangled", "strangles", "slapped",
                    "slaps", "punched", "punches", "kicked", "kicks", "raped", "rapes", "assaulted", "assaults",
                    "shoved", "attacked", "attacks")
_FEAR: Final = ("afraid", "scared", "terrified", "frightened", "worried", "fear")

CRISIS_RULES: Final[tuple[_Rule, ...]] = (
    _rule(("myself", "my self"), ("myself", "self"),
          r"\b(?:kill|killing|cut|cutting|hurt|hurting|harm|harming|burn|burning|starve|starving|hang|"
          r"hanging)\s+my\s*self\b(?!\s+(?:off|some\s+slack|a\s+break|short|loose|out|up\b|over|free))",
          None, before=12, after=16),
    _rule(("suicid",), ("suicide", "suicides", "suicidal", "suicidality"),
          r"\bsuicid(?:e|al|ality)\b", _concerns_the_author, before=2, after=8),
    _rule(("harm", "injur", "destruct"),
          ("harm", "harming", "injury", "injuries", "injure", "injuring", "injurious", "destruct", "destructive",
           "destruction", "selfharm", "selfharming"),
          r"\bself[\s-]*(?:harm|harming|injur\w*|destruct\w*)\b", _concerns_the_author, before=8, after=12),
    _rule(("die", "dead", "born"), ("die", "died", "dead", "born"),
          r"\b(?:(?:want|wanted|ready|planning|plan|trying|tried|deserve)\s+to|wanna|wish\s+i\s+could)\s+die\b"
          r"|\bwish\s+i\s+(?:was|were|had)\s+(?:dead|died|never\s+been\s+born)\b"
          r"|\bbetter\s+off\s+dead\b|\bi\s+(?:just\s+)?want\s+to\s+be\s+dead\b",
          _concerns_the_author, before=30, after=4),
    _rule(("without me",), ("without",), r"\bbetter\s+off\s+without\s+me\b", None, before=12, after=2),
    _rule(("alive", "exist", "wake up", "live", "here anymore", "go on", "going on", "keep going"),
          ("alive", "exist", "wake", "live", "living", "here", "go", "going"),
          r"\b(?:don'?t|do\s+not|no\s+longer)\s+want\s+to\s+(?:be\s+alive|exist|wake\s+up|be\s+here\s+anymore|"
          r"live(?!\s+(?:like|with|in|this|that|there|here|a\s+lie|together|through|without|near|"
          r"apart|alone)))\b"
          r"|\bno\s+(?:reason|point|will)\s+(?:to|in)\s+(?:live|living|go\s+on|going\s+on|being\s+alive|"
          r"keep\s+going|keep\s+living)\b|\bnothing\s+(?:left\s+)?to\s+live\s+for\b",
          _concerns_the_author, before=30, after=24),
    _rule(("go on",), ("go",),
          r"\bcan'?t\s+go\s+on(?!\s+(?:like|with|pretending|this\s+way|living\s+like|"
          r"holidays?|vacation|dates?|a\s+date|a\s+trip))\b",
          None, before=8, after=24),
    _rule(("it all", "my life", "my own life"), ("end", "ending", "take", "taking"),
          r"\bend(?:ing)?\s+(?:it\s+all|my\s+(?:own\s+)?life)\b|\btak(?:e|ing)\s+my\s+(?:own\s+)?life\b",
          None, before=10, after=4),
    _rule(("threat",), ("threaten", "threatens", "threatened", "threatening"),
          rf"\bthreat(?:en|ens|ened|ening)\s+(?:to\s+{_HARM_VERBS}|me\b|my\s+life|to\s+kill\s+"
          r"(?:himself|herself|themselves))",
          None, before=2, after=40),
    _rule(_FEAR, _FEAR,
          rf"\b(?:afraid|scared|terrified|frightened|worried)\s+(?:that\s+)?{_PARTNER}\s*(?:'ll|'s\s+going\s+to|"
          r"'s\s+gonna|will|would|might|may|could|is\s+going\s+to|is\s+gonna|gonna)\s+(?:\w+\s+)?"
          rf"{_HARM_VERBS}\s+(?:me|us|the\s+kids|my\s+(?:kids|children|son|daughter|baby)|himself|"
          r"herself|themselves)\b"
          r"|\b(?:fear|afraid|scared|terrified)\s+for\s+my\s+(?:life|safety)\b",
          None, before=2, after=90),
    _rule(("safe", "danger"), ("safe", "unsafe", "danger"),
          r"\b(?:i'?m|i\s+am|we'?re|we\s+are)\s+(?:not\s+safe|in\s+danger|unsafe)\b"
          r"|\b(?:don'?t|do\s+not)\s+feel\s+safe\s+(?:at\s+home|around\s+(?:him|her|them)|with\s+"
          r"(?:him|her|them)|in\s+(?:my|our)\s+(?:own\s+)?(?:home|house))\b",
          None, before=20, after=24),
    _rule(("hit", "beat", "chok", "strangl", "slap", "punch", "kick", "rape", "assault", "shove", "attack"),
          _VIOLENCE,
          rf"\b{_PARTNER}\s+(?:has\s+|had\s+|have\s+|just\s+|then\s+|also\s+|even\s+|finally\s+)?"
          rf"(?:{'|'.join(_VIOLENCE)})\s+me\b(?!\s+(?:up|to\s+it))",
          None, before=32, after=20),
    _rule(("himself", "herself", "themselves"), ("himself", "herself", "themselves"),
          r"\b(?:kill|hurt|harm)(?:ing|s)?\s+(?:him|her|them)sel(?:f|ves)\b", None, before=10, after=2),
)


# --- identifying information and links (run on the original text) ------------------

_DATE: Final = re.compile(r"\d{1,4}[/.\-]\d{1,2}[/.\-]\d{1,4}")
_YEAR_RANGE: Final = re.compile(r"(?:19|20)\d\d[\-/](?:(?:19|20)?\d\d)")
_NON_DIGITS: Final = re.compile(r"\D+")

# Possessive quantifiers (``++``) keep these linear on hostile input such as "@a.a.a.a...".
_AT_SIGN: Final = re.compile(
    r"@(?:(?<=[\w.+\-]@)(?P<email>[A-Za-z0-9\-]++(?:\.[A-Za-z0-9\-]++)++)"
    r"|(?<![\w.+\-]@)(?P<handle>[A-Za-z0-9_.]{3,30}+))")
_EMAIL_TLD: Final = re.compile(r"[A-Za-z]{2,}")
_TIME_LIKE: Final = re.compile(r"\d{1,2}(?:[:.]?\d\d)?(?:am|pm|h)?|\d+", re.IGNORECASE)
_MAIL_PROVIDERS: Final = ("gmail", "googlemail", "yahoo", "hotmail", "outlook", "icloud", "aol", "proton",
                          "protonmail", "gmx", "yandex", "msn")
# "jo (at) mail (dot) com", "jo at gmail dot com", "jo at gmail.com"; but not "looking at site.com".
_SPELLED_EMAIL: Final = re.compile(
    r"(?<![\w.+\-])[\w.+\-]{1,64}+\s*(?:[(\[{]at[)\]}]\s*[\w\-]+\s*(?:[(\[{]dot[)\]}]|\sdot\s|\.)"
    r"|\sat\s+(?:[\w\-]+\s+dot\s+|(?:" + "|".join(_MAIL_PROVIDERS) + r")\s*(?:\.|\sdot\s)))\s*"
    r"(?:com|net|org|co|io|me|edu|gov|uk|de|fr|ca|au|nl|ie)\b", re.IGNORECASE)
_SPELLED_EMAIL_WORDS: Final = frozenset(map(word_skeleton, ("dot", *_MAIL_PROVIDERS)))
_HANDLE_PREFIX: Final = re.compile(
    r"\b(?:snap(?:chat)?|sc|ig|insta(?:gram)?|kik|telegram|discord|whatsapp|signal|tiktok|twitter|"
    r"threads)\s*(?:id|name|handle|username|user)?\s*[:=]\s*@?[A-Za-z0-9_.]{3,30}", re.IGNORECASE)
_HANDLE_PREFIX_WORDS: Final = frozenset(map(word_skeleton, (
    "snap", "snapchat", "sc", "ig", "insta", "instagram", "kik", "telegram", "discord", "whatsapp", "signal",
    "tiktok", "twitter", "threads")))

_TLDS: Final = ("com|net|org|info|biz|io|co|uk|de|fr|ca|au|nz|ie|eu|ly|tv|gg|nl|es|ch|se|dk|fi|pl|ru|"
                "br|mx|jp|app|dev|xyz|online|site|link|club|live|shop|blog|me")
_URL: Final = re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
_DOMAIN_DOT: Final = re.compile(rf"\.(?<=[A-Za-z0-9]\.)(?:{_TLDS})(?![A-Za-z0-9\-])")
_PROFILE_LINK: Final = re.compile(
    r"\b(?:facebook|fb|instagram|twitter|x|tiktok|linkedin|snapchat|threads|onlyfans|tumblr|pinterest|"
    r"reddit|youtube|venmo)\.(?:com|net|me|app)/(?!(?:watch|r/|share|sharer|hashtag|explore|help|policies|"
    r"legal|privacy|terms|groups/|search)\b)[@\w.\-/]+", re.IGNORECASE)
_PROFILE_WORDS: Final = frozenset(map(word_skeleton, (
    "facebook", "fb", "instagram", "twitter", "x", "tiktok", "linkedin", "snapchat", "threads", "onlyfans",
    "tumblr", "pinterest", "reddit", "youtube", "venmo")))
_URL_WORDS: Final = frozenset(map(word_skeleton, ("http", "https", "www")))
_HOST_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.")

_STREET_TYPES: Final = (r"street|st|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd|court|ct|way|"
                        r"place|pl|terrace|close|crescent|highway|hwy|parkway|pkwy|circle|cir|square|sq|"
                        r"gardens|grove|mews")
_POSTCODE_REST: Final = r"[A-Z\d]?\s?\d[A-Z]{2}(?![A-Za-z0-9])"
# Phone numbers, street addresses and UK postcodes in one pass that starts at a digit
# (or "+", "("), so the regex engine only stops where a number begins.
_NUMBERS: Final = re.compile(
    r"[+(\d](?:"
    r"(?<![\w.,/+\-].)(?P<phone>[\d().\-/ \t]{5,24}\d(?!\w))"
    rf"|(?<![\w.,].)(?<=\d)\d{{0,4}}[A-Za-z]?\s+(?P<words>(?:[A-Za-z][A-Za-z'.\-]*\s+){{1,3}})"
    rf"(?P<street>(?i:{_STREET_TYPES}))\b"
    rf"|(?<=(?<![A-Za-z0-9])[A-Z]\d)(?P<postcode>{_POSTCODE_REST})"
    rf"|(?<=(?<![A-Za-z0-9])[A-Z][A-Z]\d){_POSTCODE_REST}"
    r")")
_STREET_STOP: Final = frozenset("""
a an the my your his her our their its this that these those some any every each no not all and or
but of in on at by for with from to into onto off out up down over under across along around through
past near about after before between behind during since until via per than then there here
is are was were be been am do does did have has had will would can could should may might must
i me we us you he she they them him it one two three four five six seven eight nine ten eleven twelve
first second third last next other same whole more most less few many several different long short
day days week weeks month months year years hour hours minute minutes second seconds time times
mile miles km kms block blocks step steps kid kids child children people men women guys friends
meeting meetings session sessions page pages chapter chapters book books verse verses
""".split())

_NAME_WORD: Final = r"[A-Z][a-z]+(?:['\u2019\-][A-Z]?[a-z]+)?"
_NAME_PLACE: Final = re.compile(
    rf"[A-Z](?<![\w'\u2019.\-][A-Z])[a-z]+(?:['\u2019\-][A-Z]?[a-z]+)?"
    rf"(?P<more>(?:\s+(?:[A-Z]\.|{_NAME_WORD})){{1,2}}),?\s+"
    r"(?:from|in|of|at|near|who\s+lives\s+in|lives\s+in|living\s+in|(?:who\s+)?works\s+(?:at|for))\s+"
    rf"(?P<place>{_NAME_WORD})")
_NOT_A_NAME: Final = frozenset("""
the a an my our your his her their this that these those some any every each no all both
i im ive id ill me we us you he she they it its mr mrs ms miss dr sir madam
hi hello hey dear thanks thank yes no okay ok well so and but or then when after before today
yesterday tomorrow tonight last next first new old happy good great big little higher
monday tuesday wednesday thursday friday saturday sunday january february march april may june
july august september october november december christmas easter thanksgiving new year
step steps book power god jesus christ lord anonymous recovery celebrate sex porn love addicts
addict addiction co dependents codependents group groups meeting meetings church center centre
hospital clinic university college school program programme therapy therapist counseling
counselling counselor counsellor team day night week month year weekend marriage husband wife
partner boyfriend girlfriend mom mum dad mother father son daughter sister brother family
one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty
support haven room chat forum update help advice question story journey hope trust truth
disclosure discovery relapse sobriety sober life home work job office court police north south
east west street road avenue lane park city town county state country
""".split())
_NOT_A_NAME_SUFFIXES: Final = ("ing", "ed", "ly", "ness", "tion", "ment", "ful", "less", "ous", "ive")


def _looks_like_phone(candidate: str) -> bool:
    """True for 9-15 digit numbers shaped like a phone number; dates, years, lists are not."""
    chunks = candidate.split()
    kept = [chunk for chunk in chunks
            if not _DATE.fullmatch(chunk.strip("()")) and not _YEAR_RANGE.fullmatch(chunk)]
    text = " ".join(kept).strip()
    if not text:
        return False
    groups = [group for group in _NON_DIGITS.split(text) if group]
    digits = sum(len(group) for group in groups)
    if not (8 if text.startswith("+") else 9) <= digits <= 15:
        return False
    if sum(1 for group in groups if len(group) == 1) > 1 or len(groups) > 7:
        return False
    return not all(len(group) == 4 and group[:2] in ("19", "20") for group in groups)


def _is_name_word(word: str) -> bool:
    low = word.lower().replace("'", "").replace("\u2019", "")
    return low not in _NOT_A_NAME and not low.endswith(_NOT_A_NAME_SUFFIXES)


def _has_name_with_place(text: str) -> bool:
    for match in _NAME_PLACE.finditer(text):
        words = match.group(0)[: match.start("more") - match.start()].split() + match.group("more").split()
        run: list[str] = []
        for word in reversed(words):
            if word.endswith(".") and len(word) == 2:  # an initial, "J."
                run.append(word)
                continue
            if not _is_name_word(word):
                break
            run.append(word)
        full_words = [word for word in run if not word.endswith(".")]
        if len(full_words) >= 2 and run[-1] in full_words and _is_name_word(match.group("place")):
            return True
    return False


def _host_start(text: str, dot: int) -> int:
    """Where the host name ending at ``dot`` starts (host names are at most 253 characters)."""
    start = dot
    limit = max(0, dot - 253)
    while start > limit and text[start - 1] in _HOST_CHARS:
        start -= 1
    return start


def _find_links(text: str, tokens: set[str]) -> bool:
    """True when the text holds a URL or a bare domain (an email address is not a link)."""
    if not _URL_WORDS.isdisjoint(tokens) and _URL.search(text):
        return True
    if "." not in text:
        return False
    for match in _DOMAIN_DOT.finditer(text):
        start = _host_start(text, match.start())
        if start > 0 and text[start - 1] == "@":
            continue  # the domain of an email address
        if start < match.start():
            return True
    return False


def _find_identifying(text: str, folded: str, tokens: set[str], ctx: ScreenContext) -> list[str]:
    """The ``pii:*`` labels for identifying information in the original ``text``.

    ``folded`` and ``tokens`` are its folded form and skeleton tokens, used to skip the
    patterns whose words are absent.
    """
    found: set[str] = set()
    if any(digit in text for digit in "0123456789"):
        for match in _NUMBERS.finditer(text):
            phone = match.group("phone")
            if phone is not None:
                if _looks_like_phone(match.group(0)):
                    found.add("pii:phone")
            elif match.group("street") is not None:
                words = match.group("words").lower().split()
                if not any(word.strip(".'-") in _STREET_STOP for word in words):
                    found.add("pii:address")
            else:
                found.add("pii:address")
    if "@" in text:
        known = {name.lower() for name in ctx.known_usernames}
        for match in _AT_SIGN.finditer(text):
            email = match.group("email")
            if email is not None:
                if _EMAIL_TLD.fullmatch(email.rsplit(".", 1)[1]):
                    found.add("pii:email")
                continue
            handle = (match.group("handle") or "").strip(".")
            if handle and not _TIME_LIKE.fullmatch(handle) and handle.lower() not in known:
                found.add("pii:handle")
    if ((not _SPELLED_EMAIL_WORDS.isdisjoint(tokens) or "(at)" in folded or "[at]" in folded
         or "{at}" in folded) and _SPELLED_EMAIL.search(text)):
        found.add("pii:email")
    if not _PROFILE_WORDS.isdisjoint(tokens) and _PROFILE_LINK.search(text):
        found.add("pii:profile-link")
    if not _HANDLE_PREFIX_WORDS.isdisjoint(tokens) and _HANDLE_PREFIX.search(text):
        found.add("pii:handle")
    if _has_name_with_place(text):
        found.add("pii:name-place")
    return [label for label in PII_LABELS if label in found]


# --- the screener ----------------------------------------------------------------


class Screener:
    """Screens member text against a fixed list of watched terms.

    Build one per version of the watched-word list and reuse it for many texts; it
    keeps no state between calls and is safe to share between threads.
    """

    def __init__(self, terms: Iterable[WatchedTerm]) -> None:
        """Prepare ``terms``: normalise each phrase and build its pattern (compiled on first use).

        Terms whose phrase has no letters or digits are ignored.
        """
        compiled: list[_CompiledTerm] = []
        keys: dict[str, list[int]] = {}
        for term in terms:
            words = normalize_for_matching(term.phrase).split()
            if not words:
                continue
            index = len(compiled)
            compiled.append(_CompiledTerm(term, _term_pattern(words)))
            for key in _term_keys(words):
                keys.setdefault(key, []).append(index)
        self._terms: tuple[_CompiledTerm, ...] = tuple(compiled)
        self._keys: dict[str, tuple[int, ...]] = {key: tuple(value) for key, value in keys.items()}

    @property
    def terms(self) -> tuple[WatchedTerm, ...]:
        """The watched terms this screener matches (those with something to match)."""
        return tuple(compiled.term for compiled in self._terms)

    def find_terms(self, text: str) -> list[WatchedTerm]:
        """The watched terms that occur in ``text``, in list order (for previews and tests)."""
        folded = fold(text)
        return [self._terms[index].term for index in self._matching_indexes(folded, *skeleton_tokens(folded))]

    def _matching_indexes(self, folded: str, tokens: set[str], runs: tuple[str, ...]) -> list[int]:
        candidates: set[int] = set()
        for key in self._keys.keys() & tokens:
            candidates.update(self._keys[key])
        if runs:
            joined = "\n".join(runs)
            for key, indexes in self._keys.items():
                if key in joined:
                    candidates.update(indexes)
        return [index for index in sorted(candidates) if self._terms[index].pattern.search(folded)]

    def _apply_replacements(self, text: str, folded: str, indexes: list[int]) -> str:
        spans: list[tuple[int, int, str]] = []
        for index in indexes:
            compiled = self._terms[index]
            if compiled.term.action != "replace":
                continue
            replacement = compiled.term.replacement
            replacement = DEFAULT_REPLACEMENT if replacement is None else replacement
            spans.extend((m.start(), m.end(), replacement) for m in compiled.pattern.finditer(folded))
        if not spans:
            return text
        spans.sort(key=lambda span: (span[0], -span[1]))
        offsets = None if len(folded) == len(text) and text.isascii() else fold_offsets(text)
        pieces: list[str] = []
        cursor = 0
        for start, end, replacement in spans:
            if offsets is not None:
                start, end = offsets[start], offsets[end - 1] + 1
            if start < cursor:
                continue  # overlaps a span already replaced
            pieces.append(text[cursor:start])
            pieces.append(replacement)
            cursor = end
        pieces.append(text[cursor:])
        return "".join(pieces)

    def screen(self, text: str, ctx: ScreenContext) -> Verdict:
        """Screen ``text`` written in ``ctx``; see the module docstring for the rules."""
        folded = fold(text)
        tokens, runs = skeleton_tokens(folded)
        moderator = ctx.author_is_moderator
        labels: list[str] = []
        refusals: list[str] = []
        confirm_kinds: list[str] = []
        hold_reasons: list[str] = []
        flag = False

        rule_text = _rule_text(folded)
        crisis = ctx.kind != "warning" and _any_rule(CRISIS_RULES, rule_text, tokens)
        if crisis:
            labels.append("crisis")

        indexes = self._matching_indexes(folded, tokens, runs)
        matched = tuple(self._terms[index].term for index in indexes)
        for term in matched:
            labels.append(f"watched:{term.label}")
            if term.action == "refuse":
                refusals.append(_REFUSE_TERM.format(reason=_TERM_REASONS.get(term.label, "a word or phrase "
                                                    "that our moderators have asked us not to publish")))
            elif term.action == "hold":
                hold_reasons.append(_HOLD_WATCHED)
            elif term.action == "flag":
                flag = True
        stored = self._apply_replacements(text, folded, indexes) if matched else text

        identifying = _find_identifying(text, folded, tokens, ctx)
        labels.extend(identifying)
        if identifying and not moderator:
            if ctx.confirmed or crisis:
                hold_reasons.insert(0, _HOLD_IDENTIFYING)
            else:
                confirm_kinds.append("identifying")

        if _any_rule(JUDGMENT_RULES, rule_text, tokens):
            labels.append("judgment")
            if not moderator:
                if ctx.confirmed or crisis:
                    flag = True
                else:
                    confirm_kinds.append("judgment")

        if not ctx.allow_links and not moderator and _find_links(text, tokens):
            labels.append("link-by-new-member")
            refusals.append(_REFUSE_LINK)

        if ctx.kind in ("post", "reply") and ctx.author_is_new and not moderator:
            labels.append("new-member")
            hold_reasons.append(_HOLD_NEW_MEMBER)

        decision: Decision
        message: str | None
        if refusals and not crisis:
            decision, message = "refuse", " ".join(dict.fromkeys(refusals))
        elif confirm_kinds:
            decision = "confirm"
            message = " ".join(_CONFIRM_IDENTIFYING if kind == "identifying" else _CONFIRM_JUDGMENT
                               for kind in confirm_kinds)
        elif hold_reasons or refusals:
            decision, message = "hold", hold_reasons[0] if hold_reasons else _HOLD_WATCHED
        elif flag or crisis:
            decision, message = "flag", None
        else:
            decision, message = "publish", None
        if crisis:
            message = _CRISIS if message is None else f"{_CRISIS} {message}"

        unique_labels = tuple(dict.fromkeys(labels))
        return Verdict(
            decision=decision,
            labels=unique_labels,
            text=stored,
            message=message,
            priority=_priority(unique_labels) if decision in ("hold", "flag") else 0,
            crisis=crisis,
            confirm_kind=confirm_kinds[0] if decision == "confirm" else None,
            matched_terms=tuple(term.phrase for term in matched),
        )


_MULTISPACE: Final = re.compile(r"[ \t]{2,}")


def _rule_text(folded: str) -> str:
    """The folded text with runs of spaces collapsed, so that anchors like "shame on" match."""
    if "  " in folded or "\t" in folded:
        return _MULTISPACE.sub(" ", folded)
    return folded


def _any_rule(rules: tuple[_Rule, ...], text: str, tokens: set[str]) -> bool:
    """True when some rule matches ``text`` (from ``_rule_text``) and its check agrees.

    ``tokens`` are the text's skeleton tokens (``skeleton_tokens``).
    """
    length = len(text)
    for rule in rules:
        if rule.words.isdisjoint(tokens):
            continue
        check = rule.check
        if rule.scan:
            if any(anchor in text for anchor in rule.anchors):
                for match in rule.pattern.finditer(text):
                    if check is None or check(text, match):
                        return True
            continue
        for anchor in rule.anchors:
            at = text.find(anchor)
            while at != -1:
                end = at + len(anchor)
                for match in rule.pattern.finditer(text, max(0, at - rule.before),
                                                   min(length, end + rule.after)):
                    if match.start() <= at and match.end() >= end and (check is None or check(text, match)):
                        return True
                at = text.find(anchor, end)
    return False


def _priority(labels: tuple[str, ...]) -> int:
    weights = [0]
    for label in labels:
        if label == "crisis":
            weights.append(PRIORITY_CRISIS)
        elif label.startswith("pii:"):
            weights.append(PRIORITY_IDENTIFYING)
        elif label == "judgment":
            weights.append(PRIORITY_JUDGMENT)
        elif label.startswith("watched:"):
            weights.append(PRIORITY_WATCHED)
        elif label in ("new-member", "link-by-new-member"):
            weights.append(PRIORITY_NEW_MEMBER)
    return max(weights)


@lru_cache(maxsize=16)
def _cached_screener(terms: tuple[WatchedTerm, ...]) -> Screener:
    return Screener(terms)


def screen(text: str, ctx: ScreenContext, terms: Iterable[WatchedTerm] = ()) -> Verdict:
    """Screen ``text`` with a screener for ``terms`` (compiled once per distinct list)."""
    return _cached_screener(tuple(terms)).screen(text, ctx)
