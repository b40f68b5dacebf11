"""Uploaded images: the checking pipeline, upload and search."""
