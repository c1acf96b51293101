"""The one error for clinic data files (content library, lexicon, thresholds, policy):
it names the file, the field and the problem, so a clinic can fix its own file."""

from __future__ import annotations


class DataFileError(ValueError):
    def __init__(self, file: str, field: str, problem: str) -> None:
        super().__init__(f"{file}: {field}: {problem}")
        self.file = file
        self.field = field
        self.problem = problem
