"""Does a text name another subject? Ids by pattern, names by whole words, built once.

Names are matched as whole-word sequences, case-insensitively and regardless of the
punctuation between their words ("Meridian Health Partners" also matches
"meridian health-partners"). The index is keyed by each name's first word, so checking a
text costs one dictionary look-up per word of the text, however many subjects are known
(10,000 customers are indexed in a few tens of milliseconds, once per run).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping

_WORD = re.compile(r"\w+")


class Subjects:
    """The known subjects (id -> name) and the pattern of a subject id, e.g. `CUST_\\d+`."""

    def __init__(self, names: Mapping[str, str], id_pattern: str) -> None:
        self.count = len(names)
        self._known = {str(subject_id).upper() for subject_id in names}
        self._ids = re.compile(rf"\b(?:{id_pattern})\b", re.IGNORECASE)
        index: dict[str, list[tuple[tuple[str, ...], str]]] = defaultdict(list)
        for subject_id, name in names.items():
            words = tuple(_WORD.findall(str(name).lower()))
            if words:
                index[words[0]].append((words, subject_id))
        for candidates in index.values():
            candidates.sort(key=lambda c: -len(c[0]))  # the longest name wins at a position
        self._index = dict(index)
        self._longest = max((len(words) for c in index.values() for words, _ in c), default=1)

    def knows(self, subject_id: str) -> bool:
        return subject_id.upper() in self._known

    def names_other(self, text: str, subject_id: str) -> bool:
        """Whether `text` names a subject other than `subject_id`, by id or by name."""
        own = subject_id.upper()
        if any(m.group(0).upper() != own for m in self._ids.finditer(text)):
            return True
        words = _WORD.findall(text.lower())
        i = 0
        while i < len(words):
            length, others = self._match(words, i, own)
            if others:
                return True
            i += length or 1
        return False

    def settled(self, text: str) -> int:
        """How much of `text`, an answer still growing, can be judged now: up to its last
        complete word, less any words at its end that may be the start of a longer name
        ("Meridian Health" while "Partners" may follow). Words already judged cannot
        become part of a name by what follows them."""
        words = list(_WORD.finditer(text))
        end = len(text)
        if words and words[-1].end() == len(text):  # the last word may go on ("CUST_456" + "78")
            end = words.pop().start()
        tail = [w.group(0).lower() for w in words[-self._longest :]]
        for k in range(len(tail), 0, -1):  # the longest run of words that may be a name's start
            run = tuple(tail[-k:])
            if any(len(name) > k and name[:k] == run for name, _ in self._index.get(run[0], ())):
                return words[-k].start()
        return end

    def _match(self, words: list[str], i: int, own: str) -> tuple[int, bool]:
        """(words matched at position i, whether only other subjects bear that name)."""
        for name, _ in self._index.get(words[i], ()):
            if tuple(words[i : i + len(name)]) == name:
                bearers = {s.upper() for n, s in self._index[words[i]] if n == name}
                return len(name), own not in bearers
        return 0, False
