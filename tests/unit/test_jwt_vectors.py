"""Published JWS vectors: RFC 7515 appendix A, RFC 8037 appendix A and Project Wycheproof.

The RFC vectors are transcribed from the RFCs; each is self-checking (the signature must verify
under the key, and for the deterministic HS256 and Ed25519 cases our signing must reproduce
the published signature byte for byte), so a transcription error fails instead of passing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from echo_vault_app.auth import JwkSet, TokenError, TokenExpired
from echo_vault_app.auth.jws import b64url_decode, b64url_encode
from echo_vault_app.auth.jwt_keys import SigningKey
from echo_vault_app.auth.tokens import TokenService
from echo_vault_app.errors import UsageError

WYCHEPROOF = Path(__file__).resolve().parents[3] / "shared/testdata/wycheproof"
WYCHEPROOF_FILE = WYCHEPROOF / "json_web_signature_test.json"

# RFC 7515 A.1: {"typ":"JWT",\r\n "alg":"HS256"} and the claims of A.1-A.3, as published.
RFC7515_HEADER_A1 = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
RFC7515_PAYLOAD = (
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
)
RFC7515_A1_JWK = {
    "kty": "oct",
    "k": "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow",
}
RFC7515_A1_SIGNATURE = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC7515_A3_JWK = {
    "kty": "EC",
    "crv": "P-256",
    "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
    "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
}
RFC7515_A3_TOKEN = (
    "eyJhbGciOiJFUzI1NiJ9." + RFC7515_PAYLOAD + "."
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
)
# RFC 8037 A.1 (key) and A.4 (signature of "Example of Ed25519 signing").
RFC8037_D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC8037_TOKEN = (
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
)
RFC7515_EXP = 1300819380


def test_rfc7515_a1_hs256_verifies_and_is_exactly_reproduced() -> None:
    token = f"{RFC7515_HEADER_A1}.{RFC7515_PAYLOAD}.{RFC7515_A1_SIGNATURE}"
    key_set = JwkSet.from_json(RFC7515_A1_JWK)

    jws = key_set.verify_jws(token)

    assert json.loads(jws.payload)["iss"] == "joe"
    raw = b64url_decode(RFC7515_A1_JWK["k"])
    from jwt.algorithms import HMACAlgorithm

    mac = HMACAlgorithm(HMACAlgorithm.SHA256).sign(jws.signing_input, raw)
    assert b64url_encode(mac) == RFC7515_A1_SIGNATURE


def test_rfc7515_a1_claims_are_checked_as_a_jwt() -> None:
    token = f"{RFC7515_HEADER_A1}.{RFC7515_PAYLOAD}.{RFC7515_A1_SIGNATURE}"
    key_set = JwkSet.from_json(RFC7515_A1_JWK)

    claims = key_set.verify_jwt(token, issuer="joe", clock=lambda: RFC7515_EXP - 10)

    assert claims["http://example.com/is_root"] is True
    with pytest.raises(TokenExpired):
        key_set.verify_jwt(token, clock=lambda: RFC7515_EXP + 31)


def test_rfc7515_a1_tampered_is_refused() -> None:
    key_set = JwkSet.from_json(RFC7515_A1_JWK)
    payload = b64url_encode(b64url_decode(RFC7515_PAYLOAD).replace(b"joe", b"eve"))

    with pytest.raises(TokenError):
        key_set.verify_jws(f"{RFC7515_HEADER_A1}.{payload}.{RFC7515_A1_SIGNATURE}")


def test_rfc7515_a3_es256_verifies() -> None:
    key_set = JwkSet.from_json(RFC7515_A3_JWK)

    jws = key_set.verify_jws(RFC7515_A3_TOKEN)

    assert json.loads(jws.payload)["exp"] == RFC7515_EXP
    flipped = RFC7515_A3_TOKEN[:-2] + ("A" if RFC7515_A3_TOKEN[-2] != "A" else "B") + "Q"
    with pytest.raises(TokenError):
        key_set.verify_jws(flipped)


def test_rfc8037_ed25519_signature_is_reproduced_and_verifies() -> None:
    private = Ed25519PrivateKey.from_private_bytes(b64url_decode(RFC8037_D))
    key = SigningKey("rfc8037", "EdDSA", 0.0, None, None, "test", private, private.public_key())
    signing_input = RFC8037_TOKEN.rsplit(".", 1)[0].encode()

    from jwt.algorithms import OKPAlgorithm

    signature = OKPAlgorithm().sign(signing_input, key.private)
    assert f"{signing_input.decode()}.{b64url_encode(signature)}" == RFC8037_TOKEN
    assert key.public_jwk()["x"] == RFC8037_X
    key_set = JwkSet.from_json({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X})
    assert key_set.verify_jws(RFC8037_TOKEN).payload == b"Example of Ed25519 signing"


def test_rfc8037_key_through_our_own_token_path() -> None:
    private = Ed25519PrivateKey.from_private_bytes(b64url_decode(RFC8037_D))
    key = SigningKey("rfc8037", "EdDSA", 0.0, None, None, "test", private, private.public_key())

    token = TokenService.sign({"sub": "x", "exp": 4_000_000_000}, key)

    key_set = JwkSet.from_json({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "kid": "rfc8037"})
    assert key_set.verify_jwt(token, clock=lambda: 1_800_000_000)["sub"] == "x"


# --- Project Wycheproof ------------------------------------------------------------------------

# Cases whose stated result the file itself contradicts; each decision is asserted below with
# the fact that forces it, so the list cannot hide an ordinary failure.
ERRATA = {
    367: ("accept", "token is byte-identical to tcId 357, which is valid"),
    370: ("accept", "token is byte-identical to tcId 357, which is valid"),
    372: ("refuse", "contains '?', outside base64url; accepting it means lenient decoding"),
    373: ("refuse", "contains '?', outside base64url; accepting it means lenient decoding"),
    346: ("refuse", "key declares alg PS256, token is PS384; tcId 338/340 require honouring alg"),
    350: ("refuse", "key declares alg PS256, token is PS384; tcId 338/340 require honouring alg"),
}


def _wycheproof_cases() -> list[tuple[int, str, dict, str, str]]:
    data = json.loads(WYCHEPROOF_FILE.read_text())
    cases = []
    for group in data["testGroups"]:
        key = group.get("public") or group["private"]
        for test in group["tests"]:
            cases.append((test["tcId"], test["comment"], key, test["jws"], test["result"]))
    assert len(cases) == data["numberOfTests"] == 401
    return cases


def _accepts(jwk: dict, jws: str) -> bool:
    try:
        key_set = JwkSet.from_json(jwk)
    except UsageError:
        return False
    try:
        key_set.verify_jws(jws)
    except TokenError:
        return False
    return True


@pytest.mark.parametrize(
    ("tc_id", "comment", "jwk", "jws", "result"),
    _wycheproof_cases(),
    ids=lambda value: str(value) if isinstance(value, int) else "",
)
def test_wycheproof_jws(tc_id: int, comment: str, jwk: dict, jws: str, result: str) -> None:
    assert result in ("valid", "invalid"), "no 'acceptable' cases are expected in this file"
    expected = result == "valid"
    if tc_id in ERRATA:
        decision, _why = ERRATA[tc_id]
        expected = decision == "accept"

    assert _accepts(jwk, jws) is expected, comment


def test_wycheproof_errata_are_what_they_claim() -> None:
    cases = {tc: (jwk, jws, result) for tc, _c, jwk, jws, result in _wycheproof_cases()}

    assert cases[367][1] == cases[370][1] == cases[357][1] and cases[357][2] == "valid"
    for tc in (372, 373):
        assert "?" in cases[tc][1] and cases[tc][2] == "valid"
        assert cases[tc][1].replace("?", "") == cases[357][1]
    for tc in (346, 350):
        header = json.loads(b64url_decode(cases[tc][1].split(".")[0]))
        assert cases[tc][0]["alg"] == "PS256" and header["alg"] == "PS384"
    for tc in (338, 340):
        header = json.loads(b64url_decode(cases[tc][1].split(".")[0]))
        assert cases[tc][0]["alg"] == "PS512" and header["alg"] != "PS512"
        assert cases[tc][2] == "invalid"
