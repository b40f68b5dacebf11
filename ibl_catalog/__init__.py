"""Programs and the suggestions admins make of them to learners."""
