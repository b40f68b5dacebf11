"""The public HTML pages of credentials: the badge page a learner shares
(``/badges/{entityId}``, also the ``verifyUrl`` when a browser asks for HTML) and the
verifier page (``/verify/``). Server-rendered Django templates with the app's own static
files: no external request, no JavaScript needed (``docs/sharing.md``)."""
