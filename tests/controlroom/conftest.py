"""The control room reads the export tests' dataset: one competition with bots, judges, chats and judgments."""

from tests.exports.conftest import dataset, fast_password_hashing, media_root  # noqa: F401 -- fixtures
