"""Recording how human partners of control chats type and leave (timings only), for bots to be played from."""

from chat.models import PresenceSample
from chat.presence import TurnTiming


def presence_turn_record(*, competition_id: int, timing: TurnTiming, opening: bool) -> PresenceSample:
    kind = PresenceSample.Kind.OPENING if opening else PresenceSample.Kind.REPLY
    return PresenceSample.objects.create(
        competition_id=competition_id,
        kind=kind,
        chars=timing.chars,
        read_s=timing.read_s,
        intervals_s=list(timing.intervals_s),
        gap_s=timing.gap_s,
    )


def presence_leave_record(*, competition_id: int, seconds: float) -> PresenceSample:
    return PresenceSample.objects.create(competition_id=competition_id, kind=PresenceSample.Kind.LEAVE, read_s=seconds)
