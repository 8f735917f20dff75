"""The joint exchange between monitoring centres (SPEC §7).

Pure parts: `merkle` (RFC 6962/9162 trees and proofs), `note` (C2SP signed
notes), `checkpoint` (C2SP tlog-checkpoint and tlog-cosignature), `bulletin`
(RFC 8785 canonical bulletins). Storage, HTTP and scheduling live apart
(`store`, `service`, `pull`, `truce.api.exchange`).
"""
