"""PACE with ECDH generic mapping: ICAO 9303-11 Appendix G.1 replayed on both sides, then the
reader against the simulated chip.

Appendix G.1 (PACE-ECDH-GM-AES-128 on brainpoolP256r1, MRZ password, the same worked example
as BSI TR-03110): every intermediate value below is the appendix's, cross-checked against the
test suites of gmrtd (pace/pace_test.go) and dmrtd. The 3DES transcript is a real passport's
(New Zealand, id-PACE-ECDH-GM-3DES on brainpoolP256r1) from gmrtd's pace_test.go.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from ecdsa import curves
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.simulated.cccd_card import CommandAPDU as CardCommand
from devices.simulated.cccd_card import card_access_content, response
from devices.simulated.chip_pace import PACEChip
from kiosk.emrtd.apdu import CommandAPDU
from kiosk.emrtd.card_access import PACEInfo, choose_pace, parse_security_infos
from kiosk.emrtd.errors import (
    AccessDenied,
    CardStatusError,
    EmrtdError,
    ParseError,
    UnsupportedProtocol,
)
from kiosk.emrtd.keys import KENC, KMAC, kdf
from kiosk.emrtd.pace import (
    PACEProtocol,
    PACEResult,
    PasswordType,
    authentication_token,
    decode_point,
    decrypt_nonce,
    encode_point,
    encrypt_nonce,
    map_generator,
    mapping_point,
    pace_password_key,
    public_key,
    public_key_data_object,
    shared_secret,
)

BP256 = curves.BRAINPOOLP256r1
GM_AES_128 = "0.4.0.127.0.7.2.2.4.2.2"
GM_3DES = "0.4.0.127.0.7.2.2.4.2.1"
GM_AES_256 = "0.4.0.127.0.7.2.2.4.2.4"


def h(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


class G1:
    """ICAO Doc 9303 Part 11, Appendix G.1: PACE ECDH generic mapping, worked example."""

    card_access = h("31143012060A04007F0007020204020202010202010D")
    info = PACEInfo(GM_AES_128, 2, 13)
    # document number T22000129, date of birth 640812, date of expiry 101031
    mrz_key = "T22000129364081251010318"
    k = h("7E2D2A41C74EA0B38CD36F863939BFA8E9032AAD")  # SHA-1 of the MRZ key string
    k_pi = h("89DED1B26624EC1E634C1989302849DD")
    encrypted_nonce = h("95A3A016522EE98D01E76CB6B98B42C3")
    nonce = h("3F00C4D39D153F2B2A214A078D899B22")
    map_sk_ifd = h("7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99")
    map_pk_ifd = h(
        "04 7ACF3EFC982EC45565A4B155129EFBC74650DCBFA6362D896FC70262E0C2CC5E"
        "544552DCB6725218799115B55C9BAA6D9F6BC3A9618E70C25AF71777A9C4922D"
    )
    map_sk_ic = h("498FF49756F2DC1587840041839A85982BE7761D14715FB091EFA7BCE9058560")
    map_pk_ic = h(
        "04 824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F57"
        "30D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54"
    )
    shared_h = h(
        "04 60332EF2450B5D247EF6D3868397D398852ED6E8CAF6FFEEF6BF85CA57057FD5"
        "0840CA7415BAF3E43BD414D35AA4608B93A2CAF3A4E3EA4E82C9C13D03EB7181"
    )
    mapped_g = h(
        "04 8CED63C91426D4F0EB1435E7CB1D74A46723A0AF21C89634F65A9AE87A9265E2"
        "8C879506743F8611AC33645C5B985C80B5F09A0B83407C1B6A4D857AE76FE522"
    )
    sk_ifd = h("A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595")
    pk_ifd = h(
        "04 2DB7A64C0355044EC9DF190514C625CBA2CEA48754887122F3A5EF0D5EDD301C"
        "3556F3B3B186DF10B857B58F6A7EB80F20BA5DC7BE1D43D9BF850149FBB36462"
    )
    sk_ic = h("107CF58696EF6155053340FD633392BA81909DF7B9706F226F32086C7AFF974A")
    pk_ic = h(
        "04 9E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB"
        "7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094"
    )
    shared_k = h("28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925")
    ks_enc = h("F5F0E35C0D7161EE6724EE513A0D9A7F")
    ks_mac = h("FE251C7858B356B24514B3BD5F4297D1")
    # the authentication tokens' input: 7F49 {06 OID, 86 the other side's PK}
    token_input_ifd = h("7F494F 060A04007F00070202040202 8641") + pk_ic
    token_input_ic = h("7F494F 060A04007F00070202040202 8641") + pk_ifd
    t_ifd = h("C2B0BD78D94BA866")
    t_ic = h("3ABB9674BCE93C08")
    # the APDUs, command → response (data + SW)
    transcript = [
        (h("0022C1A4 0F 800A04007F00070202040202 830101"), h("9000")),
        (h("10860000 02 7C00 00"), h("7C12 8010") + encrypted_nonce + h("9000")),
        (h("10860000 45 7C43 8141") + map_pk_ifd + h("00"), h("7C43 8241") + map_pk_ic + h("9000")),
        (h("10860000 45 7C43 8341") + pk_ifd + h("00"), h("7C43 8441") + pk_ic + h("9000")),
        (h("00860000 0C 7C0A 8508") + t_ifd + h("00"), h("7C0A 8608") + t_ic + h("9000")),
    ]


class NZ3DES:
    """A New Zealand passport's PACE-ECDH-GM-3DES run (gmrtd pace_test.go), reader side only."""

    info = PACEInfo(GM_3DES, 2, 13)
    mrz_key = "LM277954<178121452711151"  # LM277954, 781214, 271115 with check digits
    map_sk_ifd = h("2808272c0ec20e01a3450030ef32855e9feb5cb17719e985389b1cf47609e69f")
    sk_ifd = h("8f89449052df6c7983750c7b042c3cea12b36819174424c7cd28153f7b70b402")
    ks_enc = h("430e4c8c38dfefaed92067b919a897f8")
    ks_mac = h("c1bc1f075797b970b5a45e64a764b0cb")
    transcript = [
        (h("0022c1a40f800a04007f00070202040201830101"), h("9000")),
        (h("10860000027c0000"), h("7c128010b88382812290017af1cc906ff00e7f4d9000")),
        (
            h(
                "10860000457c438141047706b2b6246ab4612229b8a11212ddba7fea0568c9c0975dee22c0e3dd3a3f"
                "0321e8afee836e373b570d24000d56fb195104d486e63321ff8c819dd5ee018dcb00"
            ),
            h(
                "7c43824104780b4edec9b926f9f964fad826d9990a667608d96ba7b397ae8609b6533e0d036d148365"
                "ddf4e5ff6611c2b62aa17fc9899f327bc929db543e7abd0ee724e4be9000"
            ),
        ),
        (
            h(
                "10860000457c43834104507a0156efae8fb8acc519036c0b2fe0393c878744c7f91878ee4e07a41412"
                "ba5c0753d68a44a91e9f57f3f992ab689e6c2065d3b2a27c3658a4fd632931ee3800"
            ),
            h(
                "7c438441042dbaf62e6fdfb31eb66f206493b9e7721586f0e5c93754d7bd5a884ca251ee4d720ab539"
                "a60561bc46812fa289b58ac69f0c6e32adbaf7241049a31211f80f5b9000"
            ),
        ),
        (h("008600000c7c0a85088d7c617d43efe09e00"), h("7c0a8608cb57047c809079f69000")),
    ]


# --- test doubles ---------------------------------------------------------------------------


def scripted_rng(*chunks: bytes) -> Callable[[int], bytes]:
    """An rng that hands out ``chunks`` in order, checking each request's length."""
    queue = list(chunks)

    def rng(count: int) -> bytes:
        assert queue, f"rng asked for {count} more bytes than scripted"
        chunk = queue.pop(0)
        assert len(chunk) == count, f"rng asked for {count} bytes, script has {len(chunk)}"
        return chunk

    rng.remaining = queue  # type: ignore[attr-defined]
    return rng


class ScriptedCard:
    """A transport that expects exact command bytes and plays back the scripted answers."""

    def __init__(self, transcript: list[tuple[bytes, bytes]]) -> None:
        self.script = list(transcript)
        self.sent: list[bytes] = []

    def __call__(self, apdu: bytes) -> bytes:
        self.sent.append(apdu)
        assert self.script, f"unexpected extra APDU {apdu.hex().upper()}"
        expected, answer = self.script.pop(0)
        assert apdu.hex().upper() == expected.hex().upper()
        return answer


def chip_transport(chip: PACEChip) -> tuple[Callable[[bytes], bytes], list]:
    """The chip behind a transmit function, as the simulated CCCD parses APDUs."""
    sessions: list = []

    def transmit(apdu: bytes) -> bytes:
        data, sw, sm = chip.handle(CardCommand.parse(apdu))
        if sm is not None:
            sessions.append(sm)
        return response(data, sw)

    return transmit, sessions


def card_command(raw: bytes) -> CardCommand:
    return CardCommand.parse(raw)


# --- Appendix G.1, piece by piece -----------------------------------------------------------


def test_icao_9303_11_appendix_g1_password_key_from_the_mrz() -> None:
    assert hashlib.sha1(G1.mrz_key.encode()).digest() == G1.k
    assert pace_password_key(G1.mrz_key, PasswordType.MRZ) == G1.k_pi
    assert pace_password_key(G1.mrz_key.encode(), PasswordType.MRZ, "AES128") == G1.k_pi
    assert pace_password_key(G1.mrz_key, PasswordType.CAN) != G1.k_pi


def test_icao_9303_11_appendix_g1_nonce() -> None:
    assert decrypt_nonce(G1.k_pi, G1.encrypted_nonce, "AES") == G1.nonce
    assert encrypt_nonce(G1.k_pi, G1.nonce, "AES") == G1.encrypted_nonce
    with pytest.raises(ParseError):
        decrypt_nonce(G1.k_pi, G1.encrypted_nonce[:15], "AES")


def test_icao_9303_11_appendix_g1_generic_mapping() -> None:
    g = BP256.generator
    assert encode_point(public_key(int.from_bytes(G1.map_sk_ifd, "big"), g), BP256) == G1.map_pk_ifd
    assert encode_point(public_key(int.from_bytes(G1.map_sk_ic, "big"), g), BP256) == G1.map_pk_ic
    h_ifd = mapping_point(int.from_bytes(G1.map_sk_ifd, "big"), decode_point(G1.map_pk_ic, BP256))
    h_ic = mapping_point(int.from_bytes(G1.map_sk_ic, "big"), decode_point(G1.map_pk_ifd, BP256))
    assert encode_point(h_ifd, BP256) == encode_point(h_ic, BP256) == G1.shared_h
    assert encode_point(map_generator(G1.nonce, h_ifd, BP256), BP256) == G1.mapped_g


def test_icao_9303_11_appendix_g1_key_agreement_and_session_keys() -> None:
    mapped = decode_point(G1.mapped_g, BP256)
    sk_ifd, sk_ic = int.from_bytes(G1.sk_ifd, "big"), int.from_bytes(G1.sk_ic, "big")
    assert encode_point(public_key(sk_ifd, mapped), BP256) == G1.pk_ifd
    assert encode_point(public_key(sk_ic, mapped), BP256) == G1.pk_ic
    assert shared_secret(sk_ifd, decode_point(G1.pk_ic, BP256), BP256) == G1.shared_k
    assert shared_secret(sk_ic, decode_point(G1.pk_ifd, BP256), BP256) == G1.shared_k
    assert kdf(G1.shared_k, KENC, "AES128") == G1.ks_enc
    assert kdf(G1.shared_k, KMAC, "AES128") == G1.ks_mac


def test_icao_9303_11_appendix_g1_authentication_tokens() -> None:
    assert public_key_data_object(GM_AES_128, G1.pk_ic) == G1.token_input_ifd
    assert public_key_data_object(GM_AES_128, G1.pk_ifd) == G1.token_input_ic
    assert authentication_token(G1.ks_mac, GM_AES_128, G1.pk_ic, "AES") == G1.t_ifd
    assert authentication_token(G1.ks_mac, GM_AES_128, G1.pk_ifd, "AES") == G1.t_ic


# --- Appendix G.1, the whole run on each side -----------------------------------------------


def test_icao_9303_11_appendix_g1_reader_side_replay() -> None:
    card = ScriptedCard(G1.transcript)
    rng = scripted_rng(G1.map_sk_ifd, G1.sk_ifd)
    info = choose_pace(parse_security_infos(G1.card_access))
    assert info == G1.info
    result = PACEProtocol(card, info, G1.mrz_key, PasswordType.MRZ, rng=rng).run()
    assert card.script == [] and rng.remaining == []  # type: ignore[attr-defined]
    assert isinstance(result, PACEResult)
    assert result.protocol_oid == GM_AES_128
    assert result.chip_ephemeral_public == G1.pk_ic
    assert (result.sm.ks_enc, result.sm.ks_mac) == (G1.ks_enc, G1.ks_mac)
    assert (result.sm.cipher, result.sm.ssc) == ("AES", 0)


def test_icao_9303_11_appendix_g1_card_side_replay() -> None:
    rng = scripted_rng(G1.nonce, G1.map_sk_ic, G1.sk_ic)
    chip = PACEChip(G1.mrz_key, PasswordType.MRZ, 13, rng=rng)
    answers = []
    for command, expected in G1.transcript:
        data, sw, sm = chip.handle(card_command(command))
        answers.append(sm)
        assert response(data, sw).hex().upper() == expected.hex().upper()
    assert rng.remaining == []  # type: ignore[attr-defined]
    assert answers[:4] == [None] * 4
    sm = answers[4]
    assert (sm.ks_enc, sm.ks_mac, sm.cipher, sm.ssc) == (G1.ks_enc, G1.ks_mac, "AES", 0)


def test_icao_9303_11_appendix_g1_card_side_refuses_a_wrong_terminal_token() -> None:
    chip = PACEChip(
        G1.mrz_key, PasswordType.MRZ, rng=scripted_rng(G1.nonce, G1.map_sk_ic, G1.sk_ic)
    )
    for command, _ in G1.transcript[:4]:
        chip.handle(card_command(command))
    bad = bytearray(G1.transcript[4][0])
    bad[-2] ^= 0x01  # the token's last byte
    assert chip.handle(card_command(bytes(bad))) == (b"", 0x6300, None)
    assert chip.failures == 1
    # the run is over: the token again, even the right one, is out of sequence
    assert chip.handle(card_command(G1.transcript[4][0]))[1] == 0x6985


def test_3des_passport_transcript_reader_side_replay() -> None:
    card = ScriptedCard(NZ3DES.transcript)
    rng = scripted_rng(NZ3DES.map_sk_ifd, NZ3DES.sk_ifd)
    result = PACEProtocol(card, NZ3DES.info, NZ3DES.mrz_key, PasswordType.MRZ, rng=rng).run()
    assert card.script == []
    assert (result.sm.ks_enc, result.sm.ks_mac) == (NZ3DES.ks_enc, NZ3DES.ks_mac)
    assert (result.sm.cipher, result.sm.ssc, result.sm.max_le) == ("3DES", 0, 0xE7)


# --- the reader against the simulated chip --------------------------------------------------


def _run(chip: PACEChip, info: PACEInfo, password: str, kind: PasswordType) -> PACEResult:
    transmit, sessions = chip_transport(chip)
    result = PACEProtocol(transmit, info, password, kind).run()
    (chip_sm,) = sessions
    assert (chip_sm.ks_enc, chip_sm.ks_mac) == (result.sm.ks_enc, result.sm.ks_mac)
    # the two secure-messaging ends understand each other
    select = CommandAPDU(0x00, 0xA4, 0x04, 0x0C, bytes.fromhex("A0000002471001"))
    assert chip_sm.unprotect_command(result.sm.protect(select)) == select
    assert result.sm.unprotect(chip_sm.protect_response(b"CCCD", 0x9000)) == b"CCCD\x90\x00"
    return result


def test_reader_and_simulated_chip_agree_with_the_can() -> None:
    info = choose_pace(parse_security_infos(card_access_content()))
    result = _run(PACEChip("123456", PasswordType.CAN), info, "123456", PasswordType.CAN)
    assert len(result.chip_ephemeral_public) == 65


def test_reader_and_simulated_chip_agree_with_the_mrz() -> None:
    chip = PACEChip(G1.mrz_key, PasswordType.MRZ)
    _run(chip, G1.info, G1.mrz_key, PasswordType.MRZ)


def test_a_chip_that_knows_both_its_can_and_its_mrz() -> None:
    chip = PACEChip("123456", PasswordType.CAN, other_passwords={PasswordType.MRZ: G1.mrz_key})
    _run(chip, G1.info, "123456", PasswordType.CAN)
    _run(chip, G1.info, G1.mrz_key, PasswordType.MRZ)


@pytest.mark.parametrize(
    ("oid", "parameter_id", "cipher"),
    [(GM_3DES, 13, "3DES"), (GM_AES_128, 12, "AES"), (GM_AES_256, 16, "AES")],
)
def test_reader_and_chip_on_other_ciphers_and_curves(
    oid: str, parameter_id: int, cipher: str
) -> None:
    chip = PACEChip("654321", PasswordType.CAN, parameter_id, protocol_oid=oid)
    result = _run(chip, PACEInfo(oid, 2, parameter_id), "654321", PasswordType.CAN)
    assert result.sm.cipher == cipher


def test_a_wrong_can_is_access_denied_and_the_right_one_then_works() -> None:
    chip = PACEChip("123456", PasswordType.CAN)
    transmit, sessions = chip_transport(chip)
    with pytest.raises(AccessDenied) as caught:
        PACEProtocol(transmit, G1.info, "123465", PasswordType.CAN).run()
    assert caught.value.sw == 0x6300
    assert caught.value.step == "pace.mutual_authentication"
    assert "did not accept" in caught.value.user_message()
    assert sessions == [] and chip.failures == 1
    PACEProtocol(transmit, G1.info, "123456", PasswordType.CAN).run()
    assert len(sessions) == 1


def test_the_mrz_where_the_chip_holds_only_a_can_is_refused_at_mse() -> None:
    transmit, _ = chip_transport(PACEChip("123456", PasswordType.CAN))
    with pytest.raises(CardStatusError) as caught:
        PACEProtocol(transmit, G1.info, G1.mrz_key, PasswordType.MRZ).run()
    assert (caught.value.sw, caught.value.step) == (0x6A88, "pace.mse_set_at")


def test_send_parameter_id_adds_do84_which_the_chip_checks() -> None:
    card = ScriptedCard([(h("0022C1A4 12 800A04007F00070202040202 830102 84010D"), h("6A80"))])
    with pytest.raises(CardStatusError):
        PACEProtocol(card, G1.info, "123456", PasswordType.CAN, send_parameter_id=True).run()
    transmit, sessions = chip_transport(PACEChip("123456", PasswordType.CAN))
    PACEProtocol(transmit, G1.info, "123456", PasswordType.CAN, send_parameter_id=True).run()
    assert len(sessions) == 1


# --- the reader facing a misbehaving chip ---------------------------------------------------


def _g1_with(step: int, answer: bytes) -> list[tuple[bytes, bytes]]:
    transcript = list(G1.transcript[: step + 1])
    transcript[step] = (transcript[step][0], answer)
    return transcript


def _run_g1(transcript: list[tuple[bytes, bytes]]) -> PACEResult:
    rng = scripted_rng(G1.map_sk_ifd, G1.sk_ifd)
    return PACEProtocol(
        ScriptedCard(transcript), G1.info, G1.mrz_key, PasswordType.MRZ, rng=rng
    ).run()


def test_a_wrong_chip_token_is_access_denied() -> None:
    bad_token = bytes([G1.t_ic[0] ^ 0x80]) + G1.t_ic[1:]
    with pytest.raises(AccessDenied) as caught:
        _run_g1(_g1_with(4, h("7C0A 8608") + bad_token + h("9000")))
    assert caught.value.step == "pace.mutual_authentication"


@pytest.mark.parametrize("sw", ["6300", "63C2"])
def test_63xx_to_the_terminal_token_is_access_denied(sw: str) -> None:
    with pytest.raises(AccessDenied):
        _run_g1(_g1_with(4, h(sw)))


def test_a_chip_mapping_key_off_the_curve_is_refused() -> None:
    off_curve = G1.map_pk_ic[:-1] + bytes([G1.map_pk_ic[-1] ^ 1])
    with pytest.raises(ParseError) as caught:
        _run_g1(_g1_with(2, h("7C43 8241") + off_curve + h("9000")))
    assert caught.value.step == "pace.map"


def test_a_chip_echoing_the_terminal_key_is_refused() -> None:
    with pytest.raises(ParseError, match="echoed"):
        _run_g1(_g1_with(3, h("7C43 8441") + G1.pk_ifd + h("9000")))


@pytest.mark.parametrize(
    ("step", "answer"),
    [
        (1, "9000"),  # no data at all
        (1, "7C00 9000"),  # no encrypted nonce
        (1, "8010" + "00" * 16 + "9000"),  # the nonce outside its 7C template
        (1, "7C12 8010" + "00" * 15 + "9000"),  # truncated template
        (1, "7C11 800F" + "00" * 15 + "9000"),  # a nonce that is not whole blocks
        (2, "7C23 8221" + "02" + "00" * 32 + "9000"),  # a compressed point
        (3, "7C03 840104 9000"),  # a point of one byte
    ],
)
def test_malformed_chip_answers_raise_parse_errors(step: int, answer: str) -> None:
    with pytest.raises(EmrtdError) as caught:
        _run_g1(_g1_with(step, h(answer)))
    assert type(caught.value).__name__ in ("ParseError", "TLVError")
    assert caught.value.step is not None and caught.value.step.startswith("pace.")


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 4), st.binary(max_size=80), st.sampled_from(["9000", "6300", "6A80"]))
def test_any_chip_answer_raises_only_emrtd_errors(step: int, data: bytes, sw: str) -> None:
    with pytest.raises(EmrtdError):
        _run_g1(_g1_with(step, data + h(sw)))


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 3), st.binary(max_size=80), st.sampled_from([0x00, 0x10]))
def test_any_terminal_command_gets_a_status_word_from_the_chip(
    n_steps: int, data: bytes, cla: int
) -> None:
    chip = _chip_after(min(n_steps, 2))
    answer, sw, sm = chip.handle(CommandAPDU(cla, 0x86, 0x00, 0x00, data, le=256))
    assert sm is None
    assert sw == 0x9000 or answer == b""


def test_an_error_status_from_mse_is_a_card_status_error() -> None:
    with pytest.raises(CardStatusError) as caught:
        _run_g1([(G1.transcript[0][0], h("6A80"))])
    assert caught.value.sw == 0x6A80


@pytest.mark.parametrize(
    "info",
    [
        PACEInfo("0.4.0.127.0.7.2.2.4.4.2", 2, 13),  # ECDH integrated mapping
        PACEInfo("0.4.0.127.0.7.2.2.4.1.2", 2, 2),  # DH generic mapping
        PACEInfo("0.4.0.127.0.7.2.2.4.6.2", 2, 13),  # chip authentication mapping
        PACEInfo(GM_AES_128, 2, None),  # proprietary domain parameters
        PACEInfo(GM_AES_128, 2, 5),  # a reserved parameter id
        PACEInfo("1.2.3", 2, 13),  # not PACE at all
    ],
)
def test_unsupported_pace_variants_send_nothing(info: PACEInfo) -> None:
    card = ScriptedCard([])
    with pytest.raises(UnsupportedProtocol):
        PACEProtocol(card, info, "123456", PasswordType.CAN).run()
    assert card.sent == []


# --- the chip facing a misbehaving terminal -------------------------------------------------

MSE_CAN = h("0022C1A4 0F 800A04007F00070202040202 830102")


def _chip_after(n_steps: int) -> PACEChip:
    """A chip that has answered MSE:Set AT and the first ``n_steps`` GA steps of a CAN run."""
    chip = PACEChip("123456", PasswordType.CAN)
    assert chip.handle(card_command(MSE_CAN))[1] == 0x9000
    if n_steps >= 1:
        assert chip.handle(card_command(h("10860000 02 7C00 00")))[1] == 0x9000
    if n_steps >= 2:
        mapping = encode_point(BP256.generator * 12345, BP256)
        command = h("10860000 45 7C43 8141") + mapping + h("00")
        assert chip.handle(card_command(command))[1] == 0x9000
    return chip


@pytest.mark.parametrize(
    ("n_steps", "command", "sw"),
    [
        (0, "0086 0000 02 7C00 00", 0x6985),  # GA 1 without chaining
        (0, "1086 0000 04 7C02 8000 00", 0x6A80),  # GA 1 with data
        (0, "1086 0102 02 7C00 00", 0x6A86),  # GA with P1 P2
        (0, "1086 0000 02 7D00 00", 0x6A80),  # not a 7C template
        (1, "1086 0000 02 7C00 00", 0x6A80),  # GA 2 without the mapping key
        (1, "1086 0000 45 7C43 8141 04" + "00" * 64 + " 00", 0x6A80),  # mapping key off the curve
        (2, "0086 0000 0C 7C0A 8508 0000000000000000 00", 0x6985),  # GA 4 before GA 3
        (0, "00B0 0000 00", 0x6D00),  # not a PACE instruction
    ],
)
def test_the_chip_refuses_out_of_order_or_malformed_steps(
    n_steps: int, command: str, sw: int
) -> None:
    chip = _chip_after(n_steps)
    data, status, sm = chip.handle(card_command(h(command)))
    assert (data, status, sm) == (b"", sw, None)


def test_the_chip_refuses_general_authenticate_before_mse() -> None:
    chip = PACEChip("123456", PasswordType.CAN)
    assert chip.handle(card_command(h("10860000 02 7C00 00")))[1] == 0x6985


@pytest.mark.parametrize(
    ("command", "sw"),
    [
        ("0022 C1A4 0F 800A04007F00070202040204 830102", 0x6A80),  # an OID it does not offer
        ("0022 C1A4 0C 800A04007F00070202040202 ", 0x6A80),  # no password reference
        ("0022 C1A4 0F 800A04007F00070202040202 830103", 0x6A88),  # password 3 (PIN)
        ("0022 C1A4 12 800A04007F00070202040202 830102 84010C", 0x6A80),  # P-256 asked
        ("0022 81B6 0F 800A04007F00070202040202 830102", 0x6A86),  # not Set AT for PACE
        ("0022 C1A4 03 800A04", 0x6A80),  # a truncated TLV
    ],
)
def test_the_chip_checks_mse_set_at(command: str, sw: int) -> None:
    chip = PACEChip("123456", PasswordType.CAN)
    assert chip.handle(card_command(h(command))) == (b"", sw, None)


def test_the_chip_refuses_its_own_key_sent_back_at_key_agreement() -> None:
    # A terminal that knows the chip's next private key could send the chip's own public key;
    # with a scripted rng we can make that happen and see the chip refuse it.
    sk_ic = (777).to_bytes(32, "big")
    chip = PACEChip(
        "123456", PasswordType.CAN, rng=scripted_rng(bytes(16), (5).to_bytes(32, "big"), sk_ic)
    )
    assert chip.handle(card_command(MSE_CAN))[1] == 0x9000
    assert chip.handle(card_command(h("10860000 02 7C00 00")))[1] == 0x9000
    terminal_map = encode_point(BP256.generator * 3, BP256)
    command = h("10860000 45 7C43 8141") + terminal_map + h("00")
    assert chip.handle(card_command(command))[1] == 0x9000
    mapped = map_generator(bytes(16), BP256.generator * 15, BP256)
    own = encode_point(mapped * 777, BP256)
    assert chip.handle(card_command(h("10860000 45 7C43 8341") + own + h("00")))[1] == 0x6A80


def test_pace_chip_rejects_what_it_cannot_simulate() -> None:
    with pytest.raises(ValueError):
        PACEChip("123456", PasswordType.CAN, protocol_oid="0.4.0.127.0.7.2.2.4.4.2")
    with pytest.raises(ValueError):
        PACEChip("123456", PasswordType.CAN, parameter_id=2)
