"""Retrieval: embeddings, the vector index and ``POST /api/v1/rag/search`` (docs/rag.md)."""
