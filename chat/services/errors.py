"""Typed errors the chat services raise; views and the consumer map them to messages and error codes."""


class ChatError(Exception):
    """Base class; ``code`` is stable and used in API and websocket errors."""

    code = "chat_error"


class NotInvited(ChatError):
    code = "not_invited"


class EvaluatorSuspended(ChatError):
    code = "suspended"


class EvaluatorNotReady(ChatError):
    """Consent or onboarding is missing."""

    code = "not_ready"


class MatchmakingClosed(ChatError):
    """The competition is not evaluating, matchmaking is paused or the language is not offered."""

    code = "matchmaking_closed"


class NoPartnerAvailable(ChatError):
    """No chat can be offered to this evaluator now; ``code`` says why (``chats_used_up`` or ``no_partner``).

    No chat starts at all then, not even a human one: an evaluator told that no bot is available would know
    their next partner is a person.
    """

    def __init__(self, code: str) -> None:
        super().__init__("No chat partner is available now.")
        self.code = code


class AlreadyInChat(ChatError):
    code = "already_in_chat"

    def __init__(self, conversation) -> None:
        super().__init__("You are already in a chat.")
        self.conversation = conversation


class JudgmentPending(ChatError):
    code = "judgment_pending"

    def __init__(self, conversation) -> None:
        super().__init__("Judge your last chat first.")
        self.conversation = conversation


class MessageRejected(ChatError):
    """A message was not saved. ``code`` is one of the protocol's error codes.

    ``events`` are channel-layer events the rejection produced (the chat ended on the way), for the caller to send.
    """

    def __init__(self, code: str, *, ended_reason: str = "", events: tuple[dict, ...] = ()) -> None:
        super().__init__(code)
        self.code = code
        self.ended_reason = ended_reason
        self.events = events


class NotAParticipant(ChatError):
    """The sender is no longer allowed to write in this chat (not one of its sides, or suspended)."""

    code = "forbidden"


class JudgmentNotAllowed(ChatError):
    code = "judgment_not_allowed"


class JudgmentInvalid(ChatError):
    code = "judgment_invalid"

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
