"""Full-text search shared by SQLite FTS5 and PostgreSQL: one query language, one tokenisation.

* :mod:`.tokenizer` - :data:`SQLITE_TOKENIZER`, :func:`tokenize`, :func:`normalize`;
* :mod:`.postgres` - the ``fts_norm`` SQL function and the search-vector expression
  (limits of the PostgreSQL index are documented there);
* :mod:`.query` - the query language and its AST; :mod:`.render` - FTS5 / tsquery text.
"""

from .postgres import postgres_search_functions_sql, postgres_tsvector_sql
from .query import (
    MAX_DEPTH,
    MAX_PHRASE_TOKENS,
    MAX_QUERY_CHARS,
    MAX_QUERY_TERMS,
    And,
    Not,
    Nothing,
    Or,
    Phrase,
    Query,
    Term,
    parse,
)
from .render import CompiledQuery, compile_query, restriction, to_fts5, to_tsquery
from .tokenizer import (
    MAX_INDEXED_CHARS,
    MAX_TOKEN_BYTES,
    SQLITE_TOKENIZER,
    normalize,
    tokenize,
)

__all__ = [
    "MAX_DEPTH",
    "MAX_INDEXED_CHARS",
    "MAX_PHRASE_TOKENS",
    "MAX_QUERY_CHARS",
    "MAX_QUERY_TERMS",
    "MAX_TOKEN_BYTES",
    "SQLITE_TOKENIZER",
    "And",
    "CompiledQuery",
    "Not",
    "Nothing",
    "Or",
    "Phrase",
    "Query",
    "Term",
    "compile_query",
    "normalize",
    "parse",
    "postgres_search_functions_sql",
    "postgres_tsvector_sql",
    "restriction",
    "to_fts5",
    "to_tsquery",
    "tokenize",
]
