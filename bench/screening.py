"""Benchmark the screening engine on realistic 2,000-character texts.

Run from the repository root with no arguments::

    .venv/bin/python bench/screening.py

It builds a Screener with the starter list plus 200 synthetic watched terms, screens a
mix of texts (clean, judgmental, identifying information, crisis) and prints texts per
second and the median (p50) and 99th-percentile (p99) time per text. The baseline,
measured in the same run on the same texts, is what a first version usually does:
``text.lower()`` and ``phrase in text`` for every watched phrase (no evasions, no word
boundaries, no other rules). The ratio is screening time over baseline time.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from forum.moderation.screening import ScreenContext, Screener, WatchedTerm  # noqa: E402
from forum.moderation.starter_terms import STARTER_TERMS  # noqa: E402

TEXT_LENGTH = 2_000
TEXTS_PER_KIND = {"clean": 240, "judgmental": 60, "identifying": 60, "crisis": 40}
ROUNDS = 5
SEED = 20240312

CLEAN = (
    "I found out about the hidden accounts three weeks ago and I still can't sleep through the night.",
    "My counsellor says the first year after discovery is the hardest, and I believe her.",
    "We went to our first couples session on Tuesday; it was awkward but I'm glad we went.",
    "He has ninety days sober today and I honestly don't know how to feel about it.",
    "Some mornings I wake up and for a moment I forget, then it all comes back.",
    "I started journaling again, mostly lists of what I need and what I can let go.",
    "Thank you all for the replies yesterday, I read every one of them twice.",
    "Boundaries feel selfish to me, but my group keeps reminding me they are not.",
    "Step four is harder than I expected, writing it down makes it real.",
    "I relapsed last weekend after eight months and I'm ashamed of myself.",
    "I feel disgusting when I think about what I hid from my wife for years.",
    "Our kids noticed the tension, so we told them we are working on some grown-up things.",
    "Does anyone else get triggered by ordinary adverts on television?",
    "My sponsor told me to call before acting out, not after, and this time I did.",
    "It took me a long time to believe that none of this was my fault.",
    "I'm learning to notice the urge, name it, and let it pass without obeying it.",
    "We had a good day at the beach, the first in a very long time.",
    "My therapist suggested a full disclosure with a counsellor present.",
    "Reading your story helped me feel less alone tonight, so thank you.",
    "I keep asking myself whether I would ever have found out on my own.",
    "The assessment took two hours and I was exhausted afterwards.",
    "I went for a long walk and cried, then bought myself a coffee.",
    "Today is day 365 and I wanted to say it out loud somewhere safe.",
    "The meeting moved to 7:30 on Thursdays, 12/03/2024 was the last early one.",
)
JUDGMENTAL = (
    "Honestly you should be ashamed of yourself for staying this long.",
    "What did you expect from a man like that?",
    "You chose this when you took him back, so stop complaining.",
    "Just leave him already, nobody here understands why you stay.",
    "You're pathetic for checking his phone every night.",
    "Once a cheater, always a cheater.",
    "Sex addiction isn't real, he just wanted to cheat.",
)
IDENTIFYING = (
    "If anyone wants to talk you can text me on 07700 900123 any evening.",
    "My email is hopeful.partner@example.com if you want to write privately.",
    "We live at 42 Baker Street so the group meets near us.",
    "You can find me on instagram.com/healing_jane or @healing_jane.",
    "My husband Mark Jensen from Denver was the one who told me first.",
)
CRISIS = (
    "Some nights I just want to die and I don't know who to tell.",
    "I've started cutting myself again and I'm scared.",
    "He threatened to hurt me when I asked about the messages.",
    "There's no reason to live anymore, everything I built was a lie.",
)


def synthetic_terms(rng: random.Random, count: int = 200) -> list[WatchedTerm]:
    """Pronounceable invented words and phrases, so they rarely occur in the texts."""
    syllables = ("bra", "ko", "zel", "mip", "tor", "qua", "fen", "dro", "lis", "vak", "sum", "gle",
                 "rin", "pho", "tek", "yar", "blo", "ux", "nim", "cre")
    actions = ("refuse", "hold", "flag", "replace")
    terms: list[WatchedTerm] = []
    for index in range(count):
        words = [
            "".join(rng.choice(syllables) for _ in range(rng.randint(2, 3)))
            for _ in range(1 if index % 3 else rng.randint(2, 4))
        ]
        action = actions[index % len(actions)]
        terms.append(WatchedTerm(" ".join(words), action, label="synthetic"))  # type: ignore[arg-type]
    return terms


def make_text(rng: random.Random, special: tuple[str, ...]) -> str:
    """About TEXT_LENGTH characters of clean sentences with one special sentence mixed in."""
    sentences: list[str] = []
    length = 0
    insert_at = rng.randint(0, 8)
    while length < TEXT_LENGTH:
        sentence = rng.choice(special) if special and len(sentences) == insert_at else rng.choice(CLEAN)
        sentences.append(sentence)
        length += len(sentence) + 1
    return " ".join(sentences)[:TEXT_LENGTH]


def build_texts(rng: random.Random) -> list[str]:
    kinds = {"clean": (), "judgmental": JUDGMENTAL, "identifying": IDENTIFYING, "crisis": CRISIS}
    texts = [make_text(rng, kinds[kind]) for kind, count in TEXTS_PER_KIND.items() for _ in range(count)]
    rng.shuffle(texts)
    return texts


def measure(function: Callable[[str], object], texts: list[str]) -> list[float]:
    """Microseconds per call, one sample per text per round, after one warm-up round."""
    for text in texts:
        function(text)
    samples: list[float] = []
    clock = time.perf_counter_ns
    for _ in range(ROUNDS):
        for text in texts:
            start = clock()
            function(text)
            samples.append((clock() - start) / 1_000)
    return samples


def summary(samples: list[float]) -> tuple[float, float, float]:
    """(texts per second, p50 µs, p99 µs)."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return 1_000_000 * len(samples) / sum(samples), statistics.median(ordered), p99


def main() -> None:
    rng = random.Random(SEED)  # noqa: S311 - reproducible test data, not security
    terms = [*STARTER_TERMS, *synthetic_terms(rng)]
    texts = build_texts(rng)

    start = time.perf_counter()
    screener = Screener(terms)
    compile_ms = (time.perf_counter() - start) * 1_000
    context = ScreenContext(kind="post")

    phrases = [term.phrase.lower() for term in terms]

    def baseline(text: str) -> list[str]:
        lowered = text.lower()
        return [phrase for phrase in phrases if phrase in lowered]

    decisions: dict[str, int] = {}
    for text in texts:
        decision = screener.screen(text, context).decision
        decisions[decision] = decisions.get(decision, 0) + 1

    screening = summary(measure(lambda text: screener.screen(text, context), texts))
    base = summary(measure(baseline, texts))

    print(f"watched terms: {len(terms)} ({len(STARTER_TERMS)} starter + {len(terms) - len(STARTER_TERMS)} "
          f"synthetic), built in {compile_ms:.1f} ms (term patterns compile on first use)")
    print(f"texts: {len(texts)} of {TEXT_LENGTH} chars {TEXTS_PER_KIND}, {ROUNDS} rounds")
    print(f"decisions: {dict(sorted(decisions.items()))}")
    print(f"{'':24}{'texts/s':>10}{'p50 µs':>10}{'p99 µs':>10}")
    print(f"{'screening':24}{screening[0]:10.0f}{screening[1]:10.1f}{screening[2]:10.1f}")
    print(f"{'baseline lower()+in':24}{base[0]:10.0f}{base[1]:10.1f}{base[2]:10.1f}")
    print(f"ratio screening/baseline: p50 {screening[1] / base[1]:.2f}x, p99 {screening[2] / base[2]:.2f}x")


if __name__ == "__main__":
    main()
