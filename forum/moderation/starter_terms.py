"""The watched words Haven ships with; ``flask seed`` copies the missing ones into the database.

Moderators edit the list in the app afterwards; this module is only the starting point.
It is deliberately short: a few slurs, insults and threats aimed at a person, and the
shaming or dismissive lines that members of a betrayal-trauma and recovery community
hear most often. Matching already covers case, accents, symbol substitutions, spacing
tricks, contractions ("you're" = "you are" = "ur") and plurals, so each entry is
written once.

How the actions were chosen:

* ``refuse`` for slurs with no place here and insults addressed straight at someone.
* ``hold`` for gendered slurs and threats: members recount what was said to them ("he
  called me a whore"), so a moderator reads the context before it appears, rather than
  the author being turned away.
* ``flag`` for name-calling that can also be self-talk ("I felt like a pervert") and
  for shaming lines: the text is published and a moderator takes a look.

Judgment in the second person ("you should be ashamed", "just leave him") is also
caught by the judgment nudge in ``screening``, which lets self-talk, negation and
reported speech through; a watched phrase matches wherever it appears, so the list
keeps to lines that are rarely meant kindly. "You deserve it", "you're weak", "you're
the problem", "you chose this" and "you should have known" are left to the nudge
alone: here they are said warmly, quoted or denied at least as often as they are
meant ("Take the day off, you deserve it!", "It doesn't mean you're weak", "Don't let
anyone tell you that you chose this").
"""

from __future__ import annotations

from typing import Final

from forum.moderation.screening import WatchedTerm

_SLURS: Final = ("faggot", "tranny", "retard", "nigger", "kike")
_GENDERED_SLURS: Final = ("slut", "whore", "skank", "cunt")
_DIRECT_INSULTS: Final = ("you slut", "you whore", "you cunt", "you stupid bitch", "you piece of shit")
_THREATS: Final = ("kill yourself", "kys", "go die", "hope you die", "you should die")
_INSULTS_HELD: Final = ("you pervert", "you're a pervert", "you're disgusting", "you're pathetic",
                        "you disgust me", "you make me sick", "you're a loser")
_NAME_CALLING: Final = ("pervert", "sicko", "degenerate", "scumbag", "piece of shit", "bitch")
_SHAMING: Final = (
    "once a cheater always a cheater",
    "you deserve what you get",
    "you got what you deserved",
    "you should be ashamed",
    "shame on you",
    "what did you expect",
    "you made your bed",
    "you're just making excuses",
    "you brought this on yourself",
    "no wonder he cheated",
    "just leave him",
    "just leave her",
    "stop playing the victim",
    "boys will be boys",
    "addicts never change",
    "sex addiction isn't real",
    "porn addiction isn't real",
    "sex addiction is a myth",
    "porn addiction is a myth",
    "sex addiction is just an excuse",
)

STARTER_TERMS: Final[tuple[WatchedTerm, ...]] = (
    *(WatchedTerm(phrase, "refuse", label="slur") for phrase in _SLURS),
    *(WatchedTerm(phrase, "hold", label="slur") for phrase in _GENDERED_SLURS),
    *(WatchedTerm(phrase, "refuse", label="insult") for phrase in _DIRECT_INSULTS),
    *(WatchedTerm(phrase, "hold", label="threat") for phrase in _THREATS),
    *(WatchedTerm(phrase, "hold", label="insult") for phrase in _INSULTS_HELD),
    *(WatchedTerm(phrase, "flag", label="insult") for phrase in _NAME_CALLING),
    *(WatchedTerm(phrase, "flag", label="shaming") for phrase in _SHAMING),
)
