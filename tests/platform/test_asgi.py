"""The ASGI entry point tunes the garbage collector for the chat's latency."""

import gc

from django.conf import settings


def test_the_asgi_process_freezes_start_up_objects_and_sets_the_collector_thresholds():
    import hulic.asgi  # noqa: F401 -- importing it is what the server does

    assert gc.get_threshold() == settings.ASGI_GC_THRESHOLDS
    assert gc.get_freeze_count() > 10_000
