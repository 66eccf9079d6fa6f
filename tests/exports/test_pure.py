"""Pure modules: pseudonyms and the SVG chart (no database)."""

import hashlib
import hmac

from exports.pseudonyms import Pseudonymizer, hmac_sha256_via_pads, new_salt


def test_hmac_through_pads_equals_the_standard_hmac():
    salt = new_salt()
    message = b"evaluator:42"
    assert hmac_sha256_via_pads(salt, message) == hmac.new(salt, message, hashlib.sha256).hexdigest()


def test_pseudonyms_are_stable_within_an_export_and_differ_across_exports():
    first, second = Pseudonymizer(new_salt()), Pseudonymizer(new_salt())
    assert first("evaluator", 7) == first("evaluator", 7)
    assert first("evaluator", 7) != first("evaluator", 8)
    assert first("evaluator", 7) != second("evaluator", 7)
    assert first("evaluator", 7).startswith("E-")
    assert first("conversation", 7)[2:] != first("evaluator", 7)[2:]
