"""Domain errors raised by limiter services; the API maps each to a status and a JSON body."""


class LimiterError(Exception):
    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidInput(LimiterError):
    status = 400


class InvalidCode(LimiterError):
    status = 404


class TooManyAttempts(LimiterError):
    status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after
