"""Text analysis for Chinese property papers: CJK bigrams, and identifiers kept whole and split.

Whoosh's default analyser makes one token of a whole Chinese sentence, so nothing inside it can be found.
Here a run of Chinese characters becomes its overlapping bigrams (押金 inside 退还押金人民币 is the
bigram 押金), and each run also yields its last character alone, so a one-character query is answered
exactly by "a bigram starting with it, or a run ending with it". Latin words and numbers are lower-cased;
an identifier such as HT-2023-0158 is indexed whole and by its parts (ht, 2023, 0158), so it is found by
any of them. A number glued to the Chinese character after it is also indexed with it: 3栋2单元1502
becomes 3栋 · 3 · 栋 · 2单 · 2 · 单元 · 元 · 1502 and is found by 1502, by 3栋 (not by 13栋) and whole.

Why bigrams and not jieba: bigrams need no dictionary, so a name or a word jieba does not know (a
customer's name, 丽景苑) is found like any other, and the recall test (tests/search/test_recall.py)
finds every labelled document; jieba segments 押金退还 and names inconsistently and is several times
slower to index (scripts/bench/search.py prints both).

Query mode differs from index mode to keep queries cheap: a Chinese run becomes NON-overlapping bigrams
(房屋买卖合同 → 房屋 · 买卖 · 合同: every character is still covered, with half the terms to intersect),
an identifier is looked up whole only, and a number glued to a Chinese character by the glued token.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from whoosh.analysis import LowercaseFilter, Token, Tokenizer

# Han ideographs (with extension A and compatibility ideographs) and the iteration mark 〇.
_CJK = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# A Chinese run, or a Latin/number word with inner joiners (HT-2023-0158, A2.3, 2023/05).
_CHUNK = re.compile(rf"[{_CJK}]+|[0-9A-Za-z]+(?:[-_./][0-9A-Za-z]+)*")
_PART = re.compile(r"[0-9A-Za-z]+")
_CJK_CHAR = re.compile(rf"[{_CJK}]")


@dataclass(frozen=True)
class Piece:
    """One token: its text, its position (for phrases) and whether it is a single Chinese character."""

    text: str
    pos: int
    single_cjk: bool = False


def pieces(text: str, mode: str = "index") -> Iterator[Piece]:
    """The tokens of `text`. Modes: "index" (everything), "query" (fewest terms), "phrase" (positions)."""
    pos = 0
    covered_until = -1  # in query mode, a glued token already stands for the one character after it
    # NFKC folds full-width digits and letters typed with a Chinese input method (１５０２ → 1502).
    text = unicodedata.normalize("NFKC", text)
    for match in _CHUNK.finditer(text):
        chunk = match.group(0)
        if _CJK_CHAR.match(chunk):
            if len(chunk) == 1:
                if match.start() == covered_until:
                    continue
                yield Piece(chunk, pos, single_cjk=True)
                pos += 1
                continue
            if mode == "query":
                starts = list(range(0, len(chunk) - 1, 2))
                if len(chunk) % 2:
                    starts.append(len(chunk) - 2)
                for start in starts:
                    yield Piece(chunk[start:start + 2], pos + start)
            else:
                for start in range(len(chunk) - 1):
                    yield Piece(chunk[start:start + 2], pos + start)
                if mode == "index":
                    # The last character alone, at the last bigram's position: a phrase is not disturbed.
                    yield Piece(chunk[-1], pos + len(chunk) - 2)
            pos += len(chunk) - 1
            continue
        word = chunk.lower()
        # A number or code written against the next Chinese character (3栋, 2单元, 2023年) is also one
        # token with it, so 3栋 is not found in "13栋" nor in a date in March.
        end = match.end()
        glued = word + text[end] if end < len(text) and _CJK_CHAR.match(text[end]) else None
        parts = _PART.findall(word)
        if mode == "query":
            yield Piece(glued or word, pos)
            covered_until = end if glued else -1
            pos += 1
            continue
        if mode == "index":
            if glued:
                yield Piece(glued, pos)
            if len(parts) > 1:
                yield Piece(word, pos)
        for part in parts:
            yield Piece(part, pos)
            pos += 1


@lru_cache(maxsize=4)  # the content is analysed for two fields of one entry; callers leave the dict as it is
def index_terms(text: str) -> dict[str, list[int]]:
    """Each term of `pieces(text, "index")` with its positions in ascending order, without a Piece per token:
    what the index stores for a field, and where indexing spends much of its time."""
    tokens: list[str] = []
    positions: list[int] = []
    pos = 0
    text = unicodedata.normalize("NFKC", text)
    for match in _CHUNK.finditer(text):
        chunk = match.group(0)
        if chunk[0] >= "\x80":  # a Chinese run: its bigrams, then its last character alone
            last = len(chunk) - 1
            if last:
                tokens += [chunk[start:start + 2] for start in range(last)]
                positions += range(pos, pos + last)
                tokens.append(chunk[-1])
                positions.append(pos + last - 1)
                pos += last
            else:
                tokens.append(chunk)
                positions.append(pos)
                pos += 1
            continue
        word = chunk.lower()
        end = match.end()
        if end < len(text) and _CJK_CHAR.match(text[end]):
            tokens.append(word + text[end])
            positions.append(pos)
        parts = _PART.findall(word)
        if len(parts) > 1:
            tokens.append(word)
            positions.append(pos)
        tokens += parts
        positions += range(pos, pos + len(parts))
        pos += len(parts)
    terms: dict[str, list[int]] = {}
    get = terms.get
    for token, position in zip(tokens, positions):
        found = get(token)
        if found is None:
            terms[token] = [position]
        else:
            found.append(position)
    return terms


class PropertyTokenizer(Tokenizer):
    """The Whoosh face of `pieces`: Whoosh passes mode="query" when it parses, "index" otherwise."""

    def __eq__(self, other):
        return type(self) is type(other)

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for piece in pieces(value, "query" if mode == "query" else "index"):
            token.text = piece.text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = piece.text
            if positions:
                token.pos = start_pos + piece.pos
            yield token


def property_analyzer():
    return PropertyTokenizer() | LowercaseFilter()
