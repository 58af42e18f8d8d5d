"""Secure messaging, reader and card side: ICAO 9303-11 Appendix D.4 replayed on both, AES
round trips checked against an independent AES-CBC/CMAC computation, tampering, ``wrap()``."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.emrtd import tlv
from kiosk.emrtd.apdu import CommandAPDU, ResponseAPDU, read_binary, read_binary_odd, select_ef
from kiosk.emrtd.errors import SecureMessagingError
from kiosk.emrtd.keys import KENC, KMAC, adjust_parity, kdf
from kiosk.emrtd.secure_messaging import (
    SecureMessaging,
    pad,
    parse_command,
    retail_mac,
    unpad,
)

H = bytes.fromhex

# --- ICAO 9303-11 Appendix D.1: the KDF ----------------------------------------------------

K_SEED = H("239AB9CB282DAF66231DC5A4DF6BFBAE")


def test_kdf_icao_9303_11_appendix_d1() -> None:
    assert kdf(K_SEED, KENC, "3DES") == H("AB94FDECF2674FDFB9B391F85D7F76F2")
    assert kdf(K_SEED, KMAC, "3DES") == H("7962D9ECE03D1ACD4C76089DCE131543")
    # before the parity adjustment (Appendix D.1's Ka || Kb)
    assert kdf(K_SEED, KENC, "AES128") == H("AB94FCEDF2664EDFB9B291F85D7F77F2")
    assert kdf(K_SEED, KMAC, "AES128") == H("7862D9ECE03C1BCD4D77089DCF131442")


def test_adjust_parity_icao_9303_11_appendix_d1() -> None:
    assert adjust_parity(H("AB94FCEDF2664EDF")) == H("AB94FDECF2674FDF")
    assert adjust_parity(H("B9B291F85D7F77F2")) == H("B9B391F85D7F76F2")
    assert adjust_parity(H("7862D9ECE03C1BCD")) == H("7962D9ECE03D1ACD")
    assert adjust_parity(H("4D77089DCF131442")) == H("4C76089DCE131543")
    for byte in adjust_parity(bytes(range(256))):
        assert bin(byte).count("1") % 2 == 1


def test_kdf_lengths_and_hashes() -> None:
    import hashlib

    secret = bytes(range(32))
    assert kdf(secret, 1, "AES192") == hashlib.sha256(secret + b"\0\0\0\1").digest()[:24]
    assert kdf(secret, 3, "AES256") == hashlib.sha256(secret + b"\0\0\0\3").digest()
    assert kdf(secret, 2, "AES128") == hashlib.sha1(secret + b"\0\0\0\2").digest()[:16]
    with pytest.raises(ValueError):
        kdf(secret, 1, "DES")


# --- ICAO 9303-11 Appendix D.4: secure messaging, 3DES --------------------------------------

KS_ENC = H("979EC13B1CBFE9DCD01AB0FED307EAE5")
KS_MAC = H("F1CB1F1FB5ADF208806B89DC579DC1F8")
SSC0 = 0x887022120C06C226

# (plain command, protected command, plain response, protected response), in order
D4_EXCHANGE = [
    (
        "00A4020C02011E",
        "0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800",
        "9000",
        "990290008E08FA855A5D4C50A8ED9000",
    ),
    (
        "00B0000004",
        "0CB000000D9701048E08ED6705417E96BA5500",
        "60145F019000",
        "8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000",
    ),
    (
        "00B0000412",
        "0CB000040D9701128E082EA28A70F3C7B53500",
        "04303130365F36063034303030305C0261759000",
        "871901FB9235F4E4037F2327DCC8964F1F9B8C30F42C8E2FFF224A990290008E08C8B2787EAEA07D749000",
    ),
]


def d4_session() -> SecureMessaging:
    return SecureMessaging(KS_ENC, KS_MAC, SSC0, "3DES")


def test_reader_side_icao_9303_11_appendix_d4() -> None:
    sm = d4_session()
    for step, (plain_cmd, protected_cmd, plain_rsp, protected_rsp) in enumerate(D4_EXCHANGE):
        assert sm.protect(parse_command(H(plain_cmd))).hex().upper() == protected_cmd
        assert sm.ssc == SSC0 + 2 * step + 1
        assert sm.unprotect(H(protected_rsp)).hex().upper() == plain_rsp
        assert sm.ssc == SSC0 + 2 * step + 2
    assert sm.ssc_bytes == H("887022120C06C22C")


def test_reader_side_appendix_d4_with_the_apdu_helpers() -> None:
    sm = d4_session()
    assert sm.protect(select_ef(0x011E)) == H(D4_EXCHANGE[0][1])
    sm.unprotect(H(D4_EXCHANGE[0][3]))
    assert sm.protect(read_binary(0, 4)) == H(D4_EXCHANGE[1][1])
    head = ResponseAPDU.parse(sm.unprotect(H(D4_EXCHANGE[1][3])))
    assert (head.data, head.sw) == (H("60145F01"), 0x9000)
    # EF.COM is 60 14 ...: 0x14 + 2 = 22 bytes, 18 left after the first 4
    assert sm.protect(read_binary(4, head.data[1] + 2 - 4)) == H(D4_EXCHANGE[2][1])


def test_card_side_icao_9303_11_appendix_d4() -> None:
    card = d4_session()
    for step, (plain_cmd, protected_cmd, plain_rsp, protected_rsp) in enumerate(D4_EXCHANGE):
        assert card.unprotect_command(H(protected_cmd)) == parse_command(H(plain_cmd))
        assert card.ssc == SSC0 + 2 * step + 1
        response = H(plain_rsp)
        assert card.protect_response(response[:-2], 0x9000) == H(protected_rsp)
        assert card.ssc == SSC0 + 2 * step + 2


def test_appendix_d4_macs_by_hand() -> None:
    # Appendix D.4: N = SSC || padded header || DO87, padded; CC = retail MAC.
    n = H("887022120C06C227") + H("0CA4020C80000000") + H("8709016375432908C044F6")
    assert retail_mac(KS_MAC, pad(n)) == H("BF8B92D635FF24F8")
    k = H("887022120C06C228") + H("99029000")
    assert retail_mac(KS_MAC, pad(k)) == H("FA855A5D4C50A8ED")


def test_wrap_replays_appendix_d4() -> None:
    script = [(H(cmd), H(rsp)) for _, cmd, _, rsp in D4_EXCHANGE]
    sent: list[bytes] = []

    def card(apdu: bytes) -> bytes:
        expected, answer = script[len(sent)]
        sent.append(apdu)
        assert apdu == expected
        return answer

    transmit = d4_session().wrap(card)
    assert transmit(H("00A4020C02011E")) == H("9000")
    assert transmit(H("00B0000004")) == H("60145F019000")
    assert transmit(H("00B0000412")) == H("04303130365F36063034303030305C0261759000")
    assert len(sent) == 3


# --- tampering: never data ----------------------------------------------------------------


def after_select() -> SecureMessaging:
    """A reader session that has sent D.4's first two commands, awaiting the 4-byte read."""
    sm = d4_session()
    sm.protect(parse_command(H(D4_EXCHANGE[0][0])))
    sm.unprotect(H(D4_EXCHANGE[0][3]))
    sm.protect(parse_command(H(D4_EXCHANGE[1][0])))
    return sm


GOOD = H(D4_EXCHANGE[1][3])


def flip(data: bytes, index: int) -> bytes:
    changed = bytearray(data)
    changed[index] ^= 0x01
    return bytes(changed)


def test_good_response_passes_after_select() -> None:
    assert after_select().unprotect(GOOD) == H("60145F019000")


@pytest.mark.parametrize("index", range(len(GOOD) - 2))
def test_any_changed_byte_is_refused(index: int) -> None:
    with pytest.raises(SecureMessagingError):
        after_select().unprotect(flip(GOOD, index))


def test_replayed_response_is_refused() -> None:
    sm = d4_session()
    sm.protect(parse_command(H(D4_EXCHANGE[0][0])))
    sm.unprotect(H(D4_EXCHANGE[0][3]))
    sm.protect(parse_command(H(D4_EXCHANGE[1][0])))
    with pytest.raises(SecureMessagingError, match="MAC"):
        sm.unprotect(H(D4_EXCHANGE[0][3]))  # an old answer: the SSC has moved on


def _mac_for(sm: SecureMessaging, dos: bytes) -> bytes:
    return retail_mac(KS_MAC, pad((sm.ssc + 1).to_bytes(8, "big") + dos))


def test_missing_do99_is_refused_even_with_a_good_mac() -> None:
    sm = after_select()
    do87 = H("8709019FF0EC34F9922651")
    response = do87 + tlv.encode(0x8E, _mac_for(sm, do87)) + H("9000")
    with pytest.raises(SecureMessagingError, match="DO99"):
        sm.unprotect(response)


@pytest.mark.parametrize(
    "response",
    [
        "990290009000",  # no DO8E
        "8709019FF0EC34F99226519000",  # no DO99, no DO8E
        "8709019FF0EC34F9922651990290008E08AD55CC17140B2D9000",  # DO8E cut short
        "8709019FF0EC34F99226519000"[:-6] + "9000",  # DO87 cut short
        "9000",  # success status with nothing protected
        "90",
        "",
        "990290008E04AD55CC179000",  # a 4-byte MAC
    ],
)
def test_missing_or_truncated_objects_are_refused(response: str) -> None:
    with pytest.raises(SecureMessagingError):
        after_select().unprotect(H(response))


def test_misordered_or_unknown_objects_are_refused() -> None:
    sm = after_select()
    dos = H("99029000") + H("8709019FF0EC34F9922651")  # DO99 before DO87
    with pytest.raises(SecureMessagingError, match="misplaced"):
        sm.unprotect(dos + tlv.encode(0x8E, _mac_for(sm, dos)) + H("9000"))
    sm = after_select()
    dos = H("810100") + H("99029000")
    with pytest.raises(SecureMessagingError):
        sm.unprotect(dos + tlv.encode(0x8E, _mac_for(sm, dos)) + H("9000"))


def test_plain_error_status_passes_without_data() -> None:
    sm = after_select()
    assert sm.unprotect(H("6A82")) == H("6A82")
    assert sm.unprotect(H("6988")) == H("6988")
    with pytest.raises(SecureMessagingError):
        sm.unprotect(H("6282"))  # a warning that would claim data was read: not in plain


def test_do99_status_wins_over_the_outer_status_word() -> None:
    card, reader = d4_session(), d4_session()
    reader.protect(parse_command(H(D4_EXCHANGE[0][0])))
    card.unprotect_command(H(D4_EXCHANGE[0][1]))
    protected = card.protect_response(b"", 0x6A82)
    assert reader.unprotect(protected[:-2] + H("9000")) == H("6A82")


# --- card side refusals -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "sw"),
    [
        ("00A4020C02011E", 0x6987),  # plain command
        ("0CA4020C", 0x6987),  # no objects at all
        ("0CA4020C0B8709016375432908C044F600", 0x6987),  # no DO8E
        ("0CA4020C158709016375432908C044F68E08BF8B92D635FF24F900", 0x6988),  # bad MAC
        ("0CA4020C0A8E08BF8B92D635FF24F8", 0x6988),  # DO87 removed: MAC no longer holds
        ("0CA4020C158709016375432908C044F68E08BF8B92D635FF", 0x6700),  # Lc longer than data
    ],
)
def test_card_refuses_bad_commands_with_the_status_to_answer(command: str, sw: int) -> None:
    with pytest.raises(SecureMessagingError) as caught:
        d4_session().unprotect_command(H(command))
    assert caught.value.sw == sw


# --- AES: checked against an independent computation ---------------------------------------

AES_ENC = bytes(range(16))
AES_MAC = bytes(range(16, 32))


def aes_pair(ssc: int = 0) -> tuple[SecureMessaging, SecureMessaging]:
    return (
        SecureMessaging(AES_ENC, AES_MAC, ssc, "AES"),
        SecureMessaging(AES_ENC, AES_MAC, ssc, "AES"),
    )


def cmac8(data: bytes) -> bytes:
    mac = cmac.CMAC(algorithms.AES(AES_MAC))
    mac.update(data)
    return mac.finalize()[:8]


def test_aes_protect_matches_the_9303_construction() -> None:
    reader, _ = aes_pair(ssc=41)
    protected = reader.protect(CommandAPDU(0x00, 0xA4, 0x02, 0x0C, H("011E"), le=None))
    ssc = (42).to_bytes(16, "big")
    assert protected[:4] == H("0CA4020C")
    items = tlv.parse_all(protected[5:-1])
    assert [item.tag for item in items] == [0x87, 0x8E]
    assert protected[-1] == 0x00 and protected[4] == len(protected) - 6
    iv = Cipher(algorithms.AES(AES_ENC), modes.ECB()).encryptor().update(ssc)
    decryptor = Cipher(algorithms.AES(AES_ENC), modes.CBC(iv)).decryptor()
    assert items[0].value[0] == 0x01
    plain = decryptor.update(items[0].value[1:]) + decryptor.finalize()
    assert plain == H("011E80") + bytes(13)
    macced = ssc + H("0CA4020C") + H("80") + bytes(11) + items[0].encode()
    assert items[1].value == cmac8(pad(macced, 16))


def test_aes_response_matches_the_9303_construction() -> None:
    reader, card = aes_pair(ssc=0xFE)
    card.unprotect_command(reader.protect(read_binary(0, 5)))
    protected = card.protect_response(b"hello", 0x9000)
    ssc = (0x100).to_bytes(16, "big")
    items = tlv.parse_all(protected[:-2])
    assert [item.tag for item in items] == [0x87, 0x99, 0x8E]
    iv = Cipher(algorithms.AES(AES_ENC), modes.ECB()).encryptor().update(ssc)
    decryptor = Cipher(algorithms.AES(AES_ENC), modes.CBC(iv)).decryptor()
    plain = decryptor.update(items[0].value[1:]) + decryptor.finalize()
    assert plain == b"hello\x80" + bytes(10)
    assert items[2].value == cmac8(pad(ssc + items[0].encode() + items[1].encode(), 16))
    assert protected[-2:] == H("9000")


def exchange(
    reader: SecureMessaging, card: SecureMessaging, command: CommandAPDU, data: bytes, sw: int
) -> tuple[CommandAPDU, bytes]:
    received = card.unprotect_command(reader.protect(command))
    answer = reader.unprotect(card.protect_response(data, sw))
    assert reader.ssc == card.ssc
    return received, answer


@pytest.mark.parametrize("cipher", ["AES", "3DES"])
@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 223, 224, 255, 256, 300, 1000])
def test_round_trip_both_ciphers(cipher: str, size: int) -> None:
    keys = (AES_ENC, AES_MAC) if cipher == "AES" else (KS_ENC, KS_MAC)
    reader = SecureMessaging(*keys, 7, cipher)
    card = SecureMessaging(*keys, 7, cipher)
    data = bytes(i * 7 % 256 for i in range(size))
    command = CommandAPDU(0x00, 0xD6, 0x00, 0x00, data, le=None)
    received, answer = exchange(reader, card, command, data[::-1], 0x9000)
    assert received == command
    assert answer == data[::-1] + H("9000")


def test_extended_length_protected_commands() -> None:
    reader, card = aes_pair()
    big = CommandAPDU(0x00, 0xD6, 0x00, 0x00, bytes(400), le=None)
    protected = reader.protect(big)
    assert protected[4] == 0x00 and int.from_bytes(protected[5:7], "big") == len(protected) - 9
    assert protected[-2:] == H("0000")
    assert card.unprotect_command(protected) == big
    reader.unprotect(card.protect_response(b"", 0x9000))

    long_read = CommandAPDU(0x00, 0xB0, 0x00, 0x00, le=1000)
    protected = reader.protect(long_read)
    do97 = tlv.parse_all(protected[7:-2])[0]
    assert do97 == tlv.TLV(0x97, (1000).to_bytes(2, "big"))
    assert card.unprotect_command(protected) == long_read


def test_le_00_means_256_on_the_card_side() -> None:
    reader, card = aes_pair()
    received = card.unprotect_command(reader.protect(CommandAPDU(0x00, 0xB0, 0, 0, le=0)))
    assert received.le == 256


def test_odd_ins_uses_do85_both_ways() -> None:
    reader, card = aes_pair()
    command = read_binary_odd(40_000, 200)
    protected = reader.protect(command)
    first = tlv.parse_one(protected, 5)[0]
    assert first.tag == 0x85 and len(first.value) % 16 == 0  # no padding indicator
    assert card.unprotect_command(protected) == CommandAPDU(0x00, 0xB1, 0, 0, command.data, 200)
    content = tlv.encode(0x53, bytes(range(100)))
    response = card.protect_response(content, 0x9000)
    assert response[0] == 0x85
    assert reader.unprotect(response) == content + H("9000")


def test_command_without_data_or_le() -> None:
    reader, card = aes_pair()
    command = CommandAPDU(0x00, 0xA4, 0x00, 0x0C)
    protected = reader.protect(command)
    (do8e,) = tlv.parse_all(protected[5:-1])
    # SSC || padded header is already whole blocks: no further padding block (as JMRTD)
    ssc = (1).to_bytes(16, "big")
    assert do8e == tlv.TLV(0x8E, cmac8(ssc + H("0CA4000C80") + bytes(11)))
    assert card.unprotect_command(protected) == command


def test_chaining_bit_survives() -> None:
    reader, card = aes_pair()
    command = CommandAPDU(0x10, 0x86, 0x00, 0x00, b"\x7c\x00", le=0)
    protected = reader.protect(command)
    assert protected[0] == 0x1C
    assert card.unprotect_command(protected).cla == 0x10


@pytest.mark.parametrize(("cipher", "max_le"), [("3DES", 0xE7), ("AES", 0xDF)])
def test_max_le_is_the_largest_read_that_fits_a_short_response(cipher: str, max_le: int) -> None:
    keys = (AES_ENC, AES_MAC) if cipher == "AES" else (KS_ENC, KS_MAC)
    card = SecureMessaging(*keys, 0, cipher)
    assert card.max_le == max_le
    assert len(card.protect_response(bytes(max_le), 0x9000)) <= 256 + 2
    assert len(card.protect_response(bytes(max_le + 1), 0x9000)) > 256 + 2


def test_ssc_wraps_around() -> None:
    reader = SecureMessaging(KS_ENC, KS_MAC, 2**64 - 1, "3DES")
    card = SecureMessaging(KS_ENC, KS_MAC, 2**64 - 1, "3DES")
    exchange(reader, card, CommandAPDU(0, 0xB0, 0, 0, le=4), b"abcd", 0x9000)
    assert reader.ssc == 1


def test_wrap_against_a_card() -> None:
    reader, card = aes_pair(ssc=5)
    files = {0x011E: bytes(range(50))}
    state: dict[str, int] = {}

    def chip(apdu: bytes) -> bytes:
        command = card.unprotect_command(apdu)
        if command.ins == 0xA4:
            state["ef"] = int.from_bytes(command.data, "big")
            return card.protect_response(b"", 0x9000)
        offset = command.p1 << 8 | command.p2
        return card.protect_response(files[state["ef"]][offset : offset + command.le], 0x9000)

    transmit = reader.wrap(chip)
    assert transmit(select_ef(0x011E).encode()) == H("9000")
    assert transmit(read_binary(10, 5).encode()) == bytes(range(10, 15)) + H("9000")
    with pytest.raises(ValueError):
        transmit(b"\x00\xb0")


def test_padding() -> None:
    assert pad(b"", 8) == H("8000000000000000")
    assert pad(bytes(8), 8) == bytes(8) + H("8000000000000000")
    assert unpad(H("0102800000000000")) == H("0102")
    for bad in (bytes(8), H("0102030405060708"), H("80") + bytes(15)):
        with pytest.raises(SecureMessagingError):
            unpad(bad)


def test_bad_keys_and_cipher_names() -> None:
    with pytest.raises(ValueError):
        SecureMessaging(bytes(8), bytes(16), 0, "3DES")
    with pytest.raises(ValueError):
        SecureMessaging(bytes(16), bytes(16), 0, "DES")
    assert KS_ENC.hex() not in repr(d4_session()).lower()  # no key material in logs


# --- fuzz ----------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_unprotect_raises_only_secure_messaging_error(response: bytes) -> None:
    try:
        plain = after_select().unprotect(response)
    except SecureMessagingError:
        return
    assert plain == response and len(plain) == 2  # only a plain error status passes


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_unprotect_command_raises_only_secure_messaging_error(apdu: bytes) -> None:
    try:
        d4_session().unprotect_command(apdu)
    except SecureMessagingError:
        return
    raise AssertionError("random bytes passed the MAC")


@settings(max_examples=150, deadline=None)
@given(
    cla=st.sampled_from([0x00, 0x10]),
    ins=st.sampled_from([0xA4, 0xB0, 0xB1, 0xD6, 0x86]),
    p1=st.integers(0, 255),
    p2=st.integers(0, 255),
    data=st.binary(max_size=600),
    le=st.one_of(st.none(), st.integers(1, 65536)),
    answer=st.binary(max_size=600),
    sw=st.sampled_from([0x9000, 0x6282, 0x6A82, 0x6982]),
    ssc=st.integers(0, 2**128 - 1),
)
def test_aes_round_trip_any_command(
    cla: int,
    ins: int,
    p1: int,
    p2: int,
    data: bytes,
    le: int | None,
    answer: bytes,
    sw: int,
    ssc: int,
) -> None:
    reader, card = aes_pair(ssc)
    command = CommandAPDU(cla, ins, p1, p2, data, le)
    received, plain = exchange(reader, card, command, answer, sw)
    assert received == command
    assert plain == answer + sw.to_bytes(2, "big")
