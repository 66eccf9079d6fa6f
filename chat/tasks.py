from celery import shared_task

from chat import services


@shared_task(ignore_result=True)
def conversations_end_expired() -> int:
    """Safety net: end chats past their deadline whose sockets are all gone."""
    return services.conversations_end_expired()
