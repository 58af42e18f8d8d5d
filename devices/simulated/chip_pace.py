"""PACE, the card side: what the simulated CCCD answers to MSE:Set AT and GENERAL AUTHENTICATE.

The chip half of kiosk/emrtd/pace.py (ECDH generic mapping, ICAO 9303-11 §4.4 and Appendix
G.1), sharing its primitives so both halves replay the same worked example::

    MSE:Set AT 00 22 C1 A4 {80 OID, 83 ref, [84 id]}  → 9000; the protocol and password chosen
    GA 1  10 86 00 00 7C{}          → 7C{80 z}       z = E(K_pi, s), s random (16 bytes)
    GA 2  10 86 00 00 7C{81 PK}     → 7C{82 PK_map,IC}; G' = s × G + SK_map,IC × PK_map,IFD
    GA 3  10 86 00 00 7C{83 PK}     → 7C{84 PK_IC}  on G'; K, KSenc, KSmac
    GA 4  00 86 00 00 7C{85 T_IFD}  → 7C{86 T_IC}, or 6300 when T_IFD does not verify

``handle(cmd)`` returns (response data, status word, the new ``SecureMessaging`` once GA 4 has
verified the terminal, else None). Status words: 6A86 wrong P1/P2, 6A80 malformed data or
unsupported protocol/parameters, 6A88 a password the chip does not hold, 6985 a command out of
sequence or with the wrong chaining bit (GA 1–3 need CLA 10, GA 4 CLA 00), 6300 a wrong
terminal token, 6D00 an instruction this part does not handle. Any error forgets the run: the
terminal starts again with MSE:Set AT.

``rng(n)`` gives n random bytes in this order: the nonce s, the mapping private key, the
key-agreement private key (tests inject Appendix G.1's values).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Protocol

from kiosk.emrtd import tlv
from kiosk.emrtd.card_access import (
    ID_PACE_ECDH_GM,
    PACE_ALGORITHMS,
    PACEAlgorithm,
    decode_oid,
    domain_parameters,
)
from kiosk.emrtd.errors import EmrtdError, UnsupportedProtocol
from kiosk.emrtd.keys import KENC, KMAC, kdf
from kiosk.emrtd.pace import (
    NONCE_LENGTH,
    TAG_DYNAMIC_AUTH,
    TAG_ENCRYPTED_NONCE,
    TAG_EPHEMERAL_IC,
    TAG_EPHEMERAL_IFD,
    TAG_MAPPING_IC,
    TAG_MAPPING_IFD,
    TAG_TOKEN_IC,
    TAG_TOKEN_IFD,
    PasswordType,
    authentication_token,
    decode_point,
    dynamic_authentication_data,
    encode_point,
    encrypt_nonce,
    map_generator,
    mapping_point,
    pace_password_key,
    public_key,
    random_scalar,
    shared_secret,
)
from kiosk.emrtd.secure_messaging import SecureMessaging

OID_PACE_ECDH_GM_AES_CBC_CMAC_128 = ID_PACE_ECDH_GM + ".2"

INS_MSE = 0x22
INS_GENERAL_AUTHENTICATE = 0x86
CLA_CHAINING = 0x10

SW_OK = 0x9000
SW_AUTHENTICATION_FAILED = 0x6300
SW_CONDITIONS_NOT_SATISFIED = 0x6985
SW_WRONG_DATA = 0x6A80
SW_WRONG_P1P2 = 0x6A86
SW_REFERENCED_DATA_NOT_FOUND = 0x6A88
SW_INS_NOT_SUPPORTED = 0x6D00

Answer = tuple[bytes, int, SecureMessaging | None]


class Command(Protocol):
    """What ``handle`` reads of a command APDU (kiosk.emrtd.apdu's or cccd_card's)."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes


class _Stage(Enum):
    IDLE = 0  # waiting for MSE:Set AT
    SET = 1  # protocol chosen: GA 1 next
    NONCE = 2  # nonce sent: GA 2 next
    MAPPED = 3  # generator mapped: GA 3 next
    AGREED = 4  # session keys derived: GA 4 next


class _Refused(Exception):
    """Ends a command with a status word (internal)."""

    def __init__(self, sw: int) -> None:
        super().__init__(f"{sw:04X}")
        self.sw = sw


class PACEChip:
    """One chip's PACE state machine. ``password`` is the CAN or the MRZ key string.

    ``other_passwords`` lets one chip hold both (a real CCCD knows its CAN and its MRZ);
    ``protocol_oid`` is what the chip announces in EF.CardAccess (default: ECDH-GM-AES-128).
    """

    def __init__(
        self,
        password: bytes | str,
        password_type: PasswordType,
        parameter_id: int = 13,
        rng: Callable[[int], bytes] = secrets.token_bytes,
        *,
        protocol_oid: str = OID_PACE_ECDH_GM_AES_CBC_CMAC_128,
        other_passwords: Mapping[PasswordType, bytes | str] | None = None,
    ) -> None:
        algorithm = PACE_ALGORITHMS.get(protocol_oid)
        if algorithm is None or algorithm.mapping != "GM" or algorithm.agreement != "ECDH":
            raise ValueError(f"PACEChip implements ECDH generic mapping only, not {protocol_oid}")
        try:
            curve = domain_parameters(parameter_id).curve
        except UnsupportedProtocol as exc:
            raise ValueError(str(exc)) from exc
        if curve is None:
            raise ValueError(f"parameter id {parameter_id} is not an elliptic curve")
        self.algorithm: PACEAlgorithm = algorithm
        self.protocol_oid = protocol_oid
        self.parameter_id = parameter_id
        self.curve = curve
        self.passwords: dict[PasswordType, bytes | str] = {password_type: password}
        self.passwords.update(other_passwords or {})
        self.rng = rng
        self.sm: SecureMessaging | None = None
        self.failures = 0  # wrong terminal tokens so far
        self._reset()

    # --- state -----------------------------------------------------------------------------

    def _reset(self) -> None:
        self.stage = _Stage.IDLE
        self._password_type: PasswordType | None = None
        self._nonce = b""
        self._map_private = 0
        self._generator = None
        self._own_public = b""
        self._terminal_public = b""
        self._ks_enc = self._ks_mac = b""

    # --- APDUs -----------------------------------------------------------------------------

    def handle(self, cmd: Command) -> Answer:
        """Answer MSE:Set AT or one GENERAL AUTHENTICATE step."""
        try:
            if cmd.ins == INS_MSE:
                return self._mse_set_at(cmd)
            if cmd.ins == INS_GENERAL_AUTHENTICATE:
                return self._general_authenticate(cmd)
            return b"", SW_INS_NOT_SUPPORTED, None
        except _Refused as refused:
            self._reset()
            return b"", refused.sw, None
        except EmrtdError:  # a malformed TLV or point from the terminal
            self._reset()
            return b"", SW_WRONG_DATA, None

    def _mse_set_at(self, cmd: Command) -> Answer:
        self._reset()
        if (cmd.p1, cmd.p2) != (0xC1, 0xA4):
            raise _Refused(SW_WRONG_P1P2)
        objects = tlv.parse_all(cmd.data)
        oid_do, ref_do = tlv.find(objects, 0x80), tlv.find(objects, 0x83)
        if oid_do is None or ref_do is None or len(ref_do.value) != 1:
            raise _Refused(SW_WRONG_DATA)
        if decode_oid(oid_do.value) != self.protocol_oid:
            raise _Refused(SW_WRONG_DATA)
        param_do = tlv.find(objects, 0x84)
        if param_do is not None and int.from_bytes(param_do.value, "big") != self.parameter_id:
            raise _Refused(SW_WRONG_DATA)
        try:
            password_type = PasswordType(ref_do.value[0])
        except ValueError:
            raise _Refused(SW_REFERENCED_DATA_NOT_FOUND) from None
        if password_type not in self.passwords:
            raise _Refused(SW_REFERENCED_DATA_NOT_FOUND)
        self._password_type = password_type
        self.stage = _Stage.SET
        return b"", SW_OK, None

    def _step_data(self, cmd: Command, stage: _Stage, chained: bool) -> list[tlv.TLV]:
        if self.stage is not stage or bool(cmd.cla & CLA_CHAINING) != chained:
            raise _Refused(SW_CONDITIONS_NOT_SATISFIED)
        if cmd.p1 or cmd.p2:
            raise _Refused(SW_WRONG_P1P2)
        outer, end = tlv.parse_one(cmd.data)
        if outer.tag != TAG_DYNAMIC_AUTH or end != len(cmd.data):
            raise _Refused(SW_WRONG_DATA)
        return outer.children()

    @staticmethod
    def _required(objects: list[tlv.TLV], tag: int) -> bytes:
        found = tlv.find(objects, tag)
        if found is None:
            raise _Refused(SW_WRONG_DATA)
        return found.value

    def _general_authenticate(self, cmd: Command) -> Answer:
        cipher = self.algorithm.cipher
        if self.stage is _Stage.SET:
            if self._step_data(cmd, _Stage.SET, chained=True):
                raise _Refused(SW_WRONG_DATA)
            assert self._password_type is not None
            k_pi = pace_password_key(
                self.passwords[self._password_type], self._password_type, self.algorithm.kdf_cipher
            )
            self._nonce = self.rng(NONCE_LENGTH)
            z = encrypt_nonce(k_pi, self._nonce, cipher)
            self.stage = _Stage.NONCE
            return dynamic_authentication_data((TAG_ENCRYPTED_NONCE, z)), SW_OK, None

        if self.stage is _Stage.NONCE:
            objects = self._step_data(cmd, _Stage.NONCE, chained=True)
            terminal_map = decode_point(self._required(objects, TAG_MAPPING_IFD), self.curve)
            self._map_private = random_scalar(self.rng, self.curve)
            own_map = encode_point(public_key(self._map_private, self.curve.generator), self.curve)
            shared = mapping_point(self._map_private, terminal_map)
            self._generator = map_generator(self._nonce, shared, self.curve)
            self.stage = _Stage.MAPPED
            return dynamic_authentication_data((TAG_MAPPING_IC, own_map)), SW_OK, None

        if self.stage is _Stage.MAPPED:
            objects = self._step_data(cmd, _Stage.MAPPED, chained=True)
            terminal_public = self._required(objects, TAG_EPHEMERAL_IFD)
            terminal_point = decode_point(terminal_public, self.curve)
            private = random_scalar(self.rng, self.curve)
            own_public = encode_point(public_key(private, self._generator), self.curve)
            if own_public == terminal_public:
                raise _Refused(SW_WRONG_DATA)
            secret = shared_secret(private, terminal_point, self.curve)
            self._ks_enc = kdf(secret, KENC, self.algorithm.kdf_cipher)
            self._ks_mac = kdf(secret, KMAC, self.algorithm.kdf_cipher)
            self._own_public, self._terminal_public = own_public, terminal_public
            self.stage = _Stage.AGREED
            return dynamic_authentication_data((TAG_EPHEMERAL_IC, own_public)), SW_OK, None

        if self.stage is _Stage.AGREED:
            objects = self._step_data(cmd, _Stage.AGREED, chained=False)
            token = self._required(objects, TAG_TOKEN_IFD)
            oid = self.protocol_oid
            expected = authentication_token(self._ks_mac, oid, self._own_public, cipher)
            if not hmac.compare_digest(token, expected):
                self.failures += 1
                raise _Refused(SW_AUTHENTICATION_FAILED)
            own_token = authentication_token(self._ks_mac, oid, self._terminal_public, cipher)
            self.sm = SecureMessaging(self._ks_enc, self._ks_mac, 0, cipher)
            self._reset()
            return dynamic_authentication_data((TAG_TOKEN_IC, own_token)), SW_OK, self.sm

        raise _Refused(SW_CONDITIONS_NOT_SATISFIED)  # GA before MSE:Set AT
