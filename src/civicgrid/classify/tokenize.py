"""Chinese word tokenisation for the classifier.

jieba is initialised lazily, once per user vocabulary, on a private ``jieba.Tokenizer`` so the global
jieba instance (which other code may use) is left untouched. The user vocabulary is built from the
category names and keywords, so terms such as 雨水箅子 or 交通信号灯 stay whole.
"""

from __future__ import annotations

import itertools
import logging
import re
import unicodedata
import warnings
from collections.abc import Iterable
from functools import cache

with warnings.catch_warnings():
    # jieba 0.42 has invalid escape sequences in its regexes; they warn when its sources are compiled.
    warnings.simplefilter("ignore", category=DeprecationWarning)
    warnings.simplefilter("ignore", category=SyntaxWarning)
    import jieba

#: Frequency given to user words: high enough that jieba keeps them whole.
USER_WORD_FREQ = 2000
#: Texts longer than this are cut before feature extraction (reports are short; this bounds latency).
MAX_TEXT_CHARS = 1000

_DROP_TOKEN = re.compile(r"^[\W_]+$", re.UNICODE)


def normalize(text: str) -> str:
    """NFKC-normalise (full-width digits/letters to half-width), lower-case and trim to ``MAX_TEXT_CHARS``."""
    return unicodedata.normalize("NFKC", text).lower().strip()[:MAX_TEXT_CHARS]


def user_words(names_and_keywords: Iterable[str]) -> tuple[str, ...]:
    """The sorted, de-duplicated user vocabulary (words of two or more characters)."""
    return tuple(sorted({normalize(w) for w in names_and_keywords if len(normalize(w)) >= 2}))


@cache
def _tokenizer(words: tuple[str, ...]) -> jieba.Tokenizer:
    """One initialised jieba tokenizer per vocabulary (cached loader)."""
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word in words:
        tokenizer.add_word(word, freq=USER_WORD_FREQ)
    return tokenizer


def tokenize(text: str, words: tuple[str, ...] = ()) -> list[str]:
    """Split normalised text into words, dropping whitespace and punctuation-only tokens."""
    tokens = _tokenizer(words).lcut(normalize(text), HMM=True)
    return [t for t in tokens if not t.isspace() and not _DROP_TOKEN.match(t)]


class WordAnalyzer:
    """A picklable scikit-learn analyzer: word unigrams plus adjacent-word bigrams.

    Only the vocabulary is pickled; the jieba tokenizer is rebuilt lazily after loading.
    """

    def __init__(self, words: tuple[str, ...] = ()) -> None:
        self.words = tuple(words)

    def __call__(self, text: str) -> list[str]:
        tokens = tokenize(text, self.words)
        return tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]

    def __getstate__(self) -> dict[str, tuple[str, ...]]:
        return {"words": self.words}

    def __setstate__(self, state: dict[str, tuple[str, ...]]) -> None:
        self.words = tuple(state["words"])
