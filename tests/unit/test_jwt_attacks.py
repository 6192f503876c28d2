"""Our own JWTs under attack, and signing-key rotation: every refusal typed, nothing else raised."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from jwt.algorithms import HMACAlgorithm, OKPAlgorithm

from echo_vault_app.auth import (
    AlgorithmNotAllowed,
    AudienceMismatch,
    AuthManager,
    IssuerMismatch,
    MissingClaim,
    TokenError,
    TokenExpired,
    TokenLifetimeError,
    TokenMalformed,
    TokenNotYetValid,
    TokenRevoked,
    TokenSignatureInvalid,
    TokenTooLarge,
    UnknownKey,
)
from echo_vault_app.auth.jws import b64url_decode, b64url_encode

KEY = "jwt-attack-test-key-0123456789-abcdefghijk"


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def auth(clock: Clock) -> AuthManager:
    return AuthManager(secret_key=KEY, clock=clock, issuer="echo-vault-test")


def _parts(token: str) -> tuple[dict, dict, str]:
    header, payload, signature = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload)), signature


def _build(header: dict, claims: dict, sign=None) -> str:
    signing_input = (
        f"{b64url_encode(json.dumps(header).encode())}.{b64url_encode(json.dumps(claims).encode())}"
    )
    signature = sign(signing_input.encode()) if sign else b""
    return f"{signing_input}.{b64url_encode(signature)}"


def _refused(auth: AuthManager, token: object, error: type[TokenError], **kwargs) -> None:
    with pytest.raises(error):
        auth.decode_jwt_token(token, **kwargs)
    assert auth.verify_jwt_token(token, **kwargs) is None


@pytest.mark.parametrize("alg", ["HS256", "EdDSA", "ES256"])
def test_each_algorithm_round_trips(auth: AuthManager, alg: str) -> None:
    token = auth.create_jwt_token(user_id="u@example.com", permissions=["read"], algorithm=alg)

    header, _, _ = _parts(token)
    claims = auth.decode_jwt_token(token)
    assert header["alg"] == alg and header["kid"]
    assert claims["iss"] == "echo-vault-test" and claims["jti"]


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_is_refused(auth: AuthManager, alg: str) -> None:
    token = auth.create_jwt_token(user_id="u@example.com")
    header, claims, _ = _parts(token)
    header["alg"] = alg

    _refused(auth, _build(header, claims), TokenMalformed)  # empty signature
    _refused(auth, _build(header, claims, lambda m: b"x"), AlgorithmNotAllowed)


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_hs256_signed_with_a_public_key_is_refused(auth: AuthManager, alg: str) -> None:
    token = auth.create_jwt_token(user_id="u@example.com", algorithm=alg)
    header, claims, _ = _parts(token)
    public = auth.keys.get(header["kid"]).public
    candidates = [
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        json.dumps(auth.jwks()["keys"][0]).encode(),
    ]
    if alg == "EdDSA":
        candidates.append(
            public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )
    header["alg"] = "HS256"
    hmac = HMACAlgorithm(HMACAlgorithm.SHA256)

    for secret in candidates:
        _refused(
            auth, _build(header, claims, lambda m, s=secret: hmac.sign(m, s)), AlgorithmNotAllowed
        )


def test_hs256_token_relabelled_as_eddsa_is_refused(auth: AuthManager) -> None:
    token = auth.create_jwt_token(user_id="u@example.com")
    header, claims, _ = _parts(token)
    header["alg"] = "EdDSA"

    _refused(auth, _build(header, claims, lambda m: b"\0" * 64), AlgorithmNotAllowed)


def test_tampered_payload_and_header_are_refused(auth: AuthManager) -> None:
    token = auth.create_jwt_token(user_id="u@example.com", permissions=["read"])
    header_b64, payload_b64, signature = token.split(".")
    claims = json.loads(b64url_decode(payload_b64))
    claims["permissions"] = ["*"]
    header = json.loads(b64url_decode(header_b64))
    header["typ"] = "at+jwt"

    forged_payload = f"{header_b64}.{b64url_encode(json.dumps(claims).encode())}.{signature}"
    forged_header = f"{b64url_encode(json.dumps(header).encode())}.{payload_b64}.{signature}"
    _refused(auth, forged_payload, TokenSignatureInvalid)
    _refused(auth, forged_header, TokenSignatureInvalid)


def test_embedded_jwk_in_header_is_ignored(auth: AuthManager) -> None:
    token = auth.create_jwt_token(user_id="u@example.com", algorithm="EdDSA")
    header, claims, _ = _parts(token)
    attacker = Ed25519PrivateKey.generate()
    okp = OKPAlgorithm()
    header["jwk"] = okp.to_jwk(attacker.public_key(), as_dict=True)
    header["jku"] = "https://attacker.example/jwks.json"
    claims["permissions"] = ["*"]

    _refused(auth, _build(header, claims, lambda m: okp.sign(m, attacker)), TokenSignatureInvalid)


def test_expired_and_leeway(auth: AuthManager, clock: Clock) -> None:
    token = auth.create_jwt_token(user_id="u@example.com", expires_in=60)

    clock.now += 60 + 29
    assert auth.decode_jwt_token(token)
    clock.now += 1
    _refused(auth, token, TokenExpired)


def test_not_yet_valid(auth: AuthManager, clock: Clock) -> None:
    token = auth.tokens.issue("u@example.com", not_before=clock.now + 120)

    _refused(auth, token, TokenNotYetValid)
    clock.now += 90
    assert auth.decode_jwt_token(token)


def test_issued_in_the_future_is_refused(auth: AuthManager, clock: Clock) -> None:
    clock.now += 3600
    token = auth.create_jwt_token(user_id="u@example.com")
    clock.now -= 3600

    _refused(auth, token, TokenNotYetValid)


def test_missing_exp_is_refused(auth: AuthManager, clock: Clock) -> None:
    key = auth.keys.signer("HS256")
    token = auth.tokens.sign({"sub": "u", "iss": "echo-vault-test"}, key)

    _refused(auth, token, MissingClaim)


@pytest.mark.parametrize("exp", ["2000000000", True, None, [1]])
def test_non_numeric_exp_is_refused(auth: AuthManager, exp: object) -> None:
    token = auth.tokens.sign({"sub": "u", "exp": exp}, auth.keys.signer("HS256"))

    _refused(auth, token, TokenMalformed)


def test_audience_and_issuer(auth: AuthManager) -> None:
    token = auth.create_jwt_token(user_id="u@example.com", audience="api")

    assert auth.decode_jwt_token(token, audience="api")
    _refused(auth, token, AudienceMismatch, audience="gui")
    _refused(auth, token, AudienceMismatch)
    _refused(auth, token, IssuerMismatch, audience="api", issuer="someone-else")


def test_token_of_another_manager_is_unknown_key(auth: AuthManager) -> None:
    other = AuthManager(secret_key=KEY[::-1])

    _refused(auth, other.create_jwt_token(user_id="u@example.com"), UnknownKey)
    _refused(auth, other.create_jwt_token(user_id="u", algorithm="EdDSA"), UnknownKey)


@pytest.mark.parametrize("kid", ["../../etc/passwd", "*", "", "hs256-%", None, 5, ["x"]])
def test_odd_kids_are_unknown_or_malformed(auth: AuthManager, kid: object) -> None:
    token = auth.create_jwt_token(user_id="u@example.com")
    header, claims, _ = _parts(token)
    header["kid"] = kid
    key = auth.keys.signer("HS256")

    forged = _build(
        header, claims, lambda m: HMACAlgorithm(HMACAlgorithm.SHA256).sign(m, key.private)
    )
    with pytest.raises((UnknownKey, TokenMalformed)):
        auth.decode_jwt_token(forged)


def test_revoked_jti_is_refused(auth: AuthManager) -> None:
    token = auth.create_jwt_token(user_id="u@example.com")
    other = auth.create_jwt_token(user_id="u@example.com")

    auth.revoke_jwt_token(token)

    _refused(auth, token, TokenRevoked)
    assert auth.decode_jwt_token(other)


def test_oversize_token_is_refused_before_parsing(auth: AuthManager) -> None:
    token = auth.create_jwt_token(user_id="u@example.com", custom_claims={"pad": "x" * 9000})

    _refused(auth, token, TokenTooLarge)
    _refused(auth, "a" * 10**7, TokenTooLarge)


def test_crit_and_duplicate_members_are_refused(auth: AuthManager) -> None:
    key = auth.keys.signer("HS256")
    sign = lambda m: HMACAlgorithm(HMACAlgorithm.SHA256).sign(m, key.private)  # noqa: E731
    claims = {"sub": "u", "exp": 2_000_000_000}
    crit = _build({"alg": "HS256", "kid": key.kid, "crit": ["exp"], "exp": 1}, claims, sign)
    dup_header = f'{{"alg":"HS256","kid":"{key.kid}","alg":"HS256"}}'
    signing_input = (
        f"{b64url_encode(dup_header.encode())}.{b64url_encode(json.dumps(claims).encode())}"
    )
    duplicate = f"{signing_input}.{b64url_encode(sign(signing_input.encode()))}"

    _refused(auth, crit, TokenMalformed)
    _refused(auth, duplicate, TokenMalformed)


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        ".",
        "..",
        "...",
        "a.b.c",
        "eyJ.eyJ.eyJ",
        "eyJhbGciOiJIUzI1NiJ9..",
        "\x00\x01.\x02.\x03",
        "ünïcödé.tökën.x",
        "Bearer abc",
        "e30.e30.e30",
        "W10.W10.W10",
        "bnVsbA.bnVsbA.bnVsbA",
        None,
        42,
        b"\xff\xfe",
        ["a", "b"],
    ],
)
def test_garbage_is_refused_with_a_token_error(auth: AuthManager, garbage: object) -> None:
    with pytest.raises(TokenError):
        auth.decode_jwt_token(garbage)
    assert auth.verify_jwt_token(garbage) is None


_shared = AuthManager(secret_key=KEY)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_random_tokens_never_verify_and_never_raise_otherwise(value: object) -> None:
    with pytest.raises(TokenError):
        _shared.decode_jwt_token(value)


def test_custom_claims_cannot_override_reserved_ones(auth: AuthManager) -> None:
    from echo_vault_app.errors import UsageError

    for name in ("sub", "exp", "permissions", "jti"):
        with pytest.raises(UsageError):
            auth.create_jwt_token(user_id="u", custom_claims={name: "x"})


# --- signing keys: rotation, JWKS, lifetime ---------------------------------------------------


def test_rotation_keeps_old_key_verifying_until_retired(auth: AuthManager, clock: Clock) -> None:
    old_token = auth.create_jwt_token(user_id="u", algorithm="EdDSA", expires_in=7200)
    old_kid = _parts(old_token)[0]["kid"]

    new_key = auth.rotate_signing_key("EdDSA", overlap=3600)
    new_token = auth.create_jwt_token(user_id="u", algorithm="EdDSA", expires_in=7200)

    assert _parts(new_token)[0]["kid"] == new_key.kid != old_kid
    assert auth.decode_jwt_token(old_token) and auth.decode_jwt_token(new_token)
    assert {k["kid"] for k in auth.jwks()["keys"]} == {old_kid, new_key.kid}
    clock.now += 3600
    _refused(auth, old_token, UnknownKey)
    assert [k["kid"] for k in auth.jwks()["keys"]] == [new_key.kid]
    assert auth.decode_jwt_token(new_token)


def test_jwks_is_public_only(auth: AuthManager) -> None:
    auth.create_jwt_token(user_id="u", algorithm="EdDSA")
    auth.create_jwt_token(user_id="u", algorithm="ES256")

    keys = auth.jwks()["keys"]

    assert {k["alg"] for k in keys} == {"EdDSA", "ES256"}
    assert all("d" not in k and "k" not in k for k in keys)


def test_token_never_outlives_its_key(auth: AuthManager, clock: Clock) -> None:
    key = auth.create_signing_key("ES256", lifetime=3600)

    with pytest.raises(TokenLifetimeError):
        auth.create_jwt_token(user_id="u", algorithm="ES256", expires_in=3601)
    token = auth.create_jwt_token(user_id="u", algorithm="ES256", expires_in=3600)
    assert _parts(token)[0]["kid"] == key.kid
    assert auth.decode_jwt_token(token)


def test_retired_key_stops_verifying_at_once(auth: AuthManager) -> None:
    token = auth.create_jwt_token(user_id="u", algorithm="EdDSA")

    auth.retire_signing_key(_parts(token)[0]["kid"])

    _refused(auth, token, UnknownKey)
    assert auth.jwks()["keys"] == []


def test_imported_jwks_verifies_other_issuer(auth: AuthManager, clock: Clock) -> None:
    issuer = AuthManager(secret_key=KEY[::-1], clock=clock, issuer="partner")
    token = issuer.create_jwt_token(user_id="svc", algorithm="ES256", audience="echo")

    auth.import_jwks("partner", json.dumps(issuer.jwks()))

    claims = auth.verify_with_jwks(token, "partner", audience="echo", issuer="partner")
    assert claims["sub"] == "svc"
    with pytest.raises(IssuerMismatch):
        auth.verify_with_jwks(token, "partner", audience="echo", issuer="other")
    with pytest.raises(UnknownKey):
        auth.verify_with_jwks(auth.create_jwt_token(user_id="x", algorithm="ES256"), "partner")
