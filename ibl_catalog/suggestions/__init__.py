"""One generic implementation of "suggest an item of the catalog to a learner".

A kind of suggestion is declared once (:class:`SuggestionKind`): its concrete model
(a subclass of :class:`SuggestionBase`) and the catalog item it points at. The
selector, services, serializers and views here serve every kind; program
suggestions are the first declaration (``ibl_catalog.declarations``), course and
pathway suggestions are two more.
"""
