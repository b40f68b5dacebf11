"""Course credential import/export: move a course's credentials between courses,
platforms and servers as one versioned JSON document (``docs/import-export.md``)."""
