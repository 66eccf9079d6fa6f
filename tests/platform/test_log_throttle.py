import logging

from hulic.log_throttle import ThrottledLog


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_one_line_per_kind_per_interval_with_the_count_of_the_rest(caplog):
    clock = Clock()
    log = ThrottledLog(logging.getLogger("test.throttle"), interval=10.0, clock=clock)
    with caplog.at_level(logging.WARNING):
        for _ in range(1000):
            log.warning("redis", "the channel layer failed", error=ConnectionError("refused"))
            log.warning("db", "the database failed")
        clock.now = 10.0
        log.warning("redis", "the channel layer failed", error=ConnectionError("refused"))
    lines = [record.getMessage() for record in caplog.records]
    assert lines == [
        "the channel layer failed [redis] ConnectionError: refused",
        "the database failed [db]",
        "the channel layer failed [redis] ConnectionError: refused (999 more since the last line)",
    ]
    assert all(record.exc_info is None for record in caplog.records)
