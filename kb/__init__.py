"""The knowledge base, shipped as package data: one folder per policy plus shared encodings. No Python here."""
