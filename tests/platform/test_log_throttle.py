import logging

from hulic.log_throttle import ThrottledLog, ThrottleFilter


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


def test_the_logging_filter_lets_one_record_of_a_kind_through_per_interval():
    clock = Clock()
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Keep()
    handler.addFilter(ThrottleFilter(interval=30.0, clock=clock))
    logger = logging.getLogger("test.throttle.filter")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        for _ in range(500):
            try:
                raise ConnectionError("Connection refused")
            except ConnectionError:
                logger.exception("Unexpected exception in receive task")
            logger.info("a request")
        clock.now = 31.0
        logger.error("Unexpected exception in receive task")
    finally:
        logger.removeHandler(handler)

    errors = [record for record in records if record.levelno >= logging.WARNING]
    assert [record.getMessage() for record in errors] == [
        "Unexpected exception in receive task",
        "Unexpected exception in receive task (499 more like this not logged)",
    ]
    assert errors[0].exc_info is not None
    assert sum(record.levelno == logging.INFO for record in records) == 500
