"""The CSCAs a card's signer must chain to: a folder of certificates, a CSCA master list, and
the extras a composition root adds (the simulator's TEST CSCA, in simulated or demo mode only).

Both the kiosk (kiosk/app/services.py, ``kiosk chip``) and the reference back office
(backoffice/context.py) load their trust anchors here, the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the kiosk's start does not load the chip's crypto for a type
    from kiosk.emrtd.passive_auth import TrustStore


def load_trust(
    trust_dir: Path | None, master_list: Path | None = None, *, extra_cscas: Sequence[Any] = ()
) -> TrustStore:
    """The CSCAs to trust: those of ``trust_dir`` and the ``master_list`` file, plus
    ``extra_cscas`` (the kiosk's and the back office's one way of loading them).

    The composition roots pass the simulator's TEST CSCA as an extra only in simulated or demo
    mode (kiosk/app/services.py ``simulated_cscas``, backoffice/context.py); this module knows
    no simulator. A ``master_list`` never brings a TEST CSCA in.
    """
    from kiosk.emrtd.passive_auth import TrustStore

    has_folder = trust_dir is not None and trust_dir.is_dir()
    trust = TrustStore.load(trust_dir) if trust_dir is not None and has_folder else TrustStore()
    if master_list is not None:
        trust.add_master_list(master_list)
    for cert in extra_cscas:
        trust.add(cert)
    return trust
