"""Open Badges 2.0 (hosted, baked) and 3.0 (signed Verifiable Credentials).

One module per format: :mod:`.ob2` (hosted documents), :mod:`.baking` (images that
carry their assertion), :mod:`.ob3` (``OpenBadgeCredential``), :mod:`.signing` (issuer
keys, ``did:key``, VC-JWT and ``eddsa-rdfc-2022`` proofs), :mod:`.status` (Bitstring
Status Lists), :mod:`.contexts` (shipped JSON-LD contexts), :mod:`.rdfc` (bounded
RDFC-1.0). The verifier: :mod:`.verification` (the checks), :mod:`.resolution` (keys
of did:key and did:web), :mod:`.unbaking` (uploaded images), :mod:`.verify_views` (the
API). ``docs/open-badges.md`` says how a third party verifies what these produce;
``docs/verifying.md`` how this server verifies what it is handed.
"""
