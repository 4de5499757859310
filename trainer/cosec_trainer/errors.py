"""Errors that name what the user must fix; the CLI prints them as one line and exits 2."""


class TrainerError(Exception):
    pass


class DatasetLineError(TrainerError):
    def __init__(self, file: str, line: int, reason: str):
        super().__init__(f"{file}:{line}: {reason}")
        self.file, self.line = file, line


class TokenizerMismatchError(TrainerError):
    pass
