"""Open Badges 2.0 (hosted, baked) and 3.0 (signed Verifiable Credentials).

One module per format: :mod:`.ob2` (hosted documents), :mod:`.baking` (images that
carry their assertion), :mod:`.ob3` (``OpenBadgeCredential``), :mod:`.signing` (issuer
keys, ``did:key``, VC-JWT and ``eddsa-rdfc-2022`` proofs), :mod:`.status` (Bitstring
Status Lists), :mod:`.contexts` (shipped JSON-LD contexts). ``docs/open-badges.md``
says how a third party verifies what these produce.
"""
