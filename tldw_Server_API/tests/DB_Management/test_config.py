"""Configuration: env > config.txt > libpq PG* variables > defaults, with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tldw_Server_API.app.core.config import ConfigError, load_settings
from tldw_Server_API.app.core.DB_Management import migration_tools
from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget

SECRET = "s3cr3t-p@ss"


def _config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.txt"
    path.write_text(body, encoding="utf-8")
    return path


def test_defaults_apply_when_nothing_is_set(tmp_path: Path) -> None:
    settings = load_settings(env={}, config_file=tmp_path / "missing.txt")
    assert settings.content_db_backend == "sqlite"
    assert (settings.pg_host, settings.pg_port, settings.pg_database) == (
        "localhost",
        5432,
        "tldw_content",
    )
    assert settings.pg_password is None


def test_environment_beats_config_file_beats_libpq_variables(tmp_path: Path) -> None:
    config = _config(tmp_path, "[Database]\npg_host = from-config\npg_port = 6000\n")
    env = {"TLDW_PG_HOST": "from-env", "PGHOST": "from-libpq", "PGPORT": "7000"}
    settings = load_settings(env=env, config_file=config)
    assert settings.pg_host == "from-env"
    assert settings.pg_port == 6000


def test_libpq_variables_fill_in_what_nothing_else_sets(tmp_path: Path) -> None:
    env = {"PGHOST": "db.internal", "PGPORT": "6543", "PGDATABASE": "content", "PGUSER": "tldw"}
    settings = load_settings(env=env, config_file=tmp_path / "missing.txt")
    assert (settings.pg_host, settings.pg_port, settings.pg_database, settings.pg_user) == (
        "db.internal",
        6543,
        "content",
        "tldw",
    )


def test_libpq_variables_do_not_choose_the_backend(tmp_path: Path) -> None:
    settings = load_settings(env={"PGHOST": "db"}, config_file=tmp_path / "missing.txt")
    assert settings.content_db_backend == "sqlite"


def test_empty_environment_values_are_ignored(tmp_path: Path) -> None:
    config = _config(tmp_path, "[Database]\ncontent_db_backend = postgresql\n")
    settings = load_settings(env={"TLDW_CONTENT_DB_BACKEND": ""}, config_file=config)
    assert settings.content_db_backend == "postgresql"


def test_the_server_section_is_read_too(tmp_path: Path) -> None:
    config = _config(tmp_path, "[Server]\nserver_port = 9001\n")
    assert load_settings(env={}, config_file=config).server_port == 9001


def test_tldw_config_file_names_the_config_file(tmp_path: Path) -> None:
    config = _config(tmp_path, "[Database]\npg_database = chosen\n")
    settings = load_settings(env={"TLDW_CONFIG_FILE": str(config)})
    assert settings.pg_database == "chosen"


@pytest.mark.parametrize("spelling", ["postgres", "PostgreSQL", " postgresql "])
def test_postgres_is_an_alias_of_postgresql(tmp_path: Path, spelling: str) -> None:
    env = {"TLDW_CONTENT_DB_BACKEND": spelling}
    settings = load_settings(env=env, config_file=tmp_path / "missing.txt")
    assert settings.content_db_backend == "postgresql"
    assert settings.uses_postgres


def test_an_invalid_backend_names_the_variable_and_accepted_values(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(env={"TLDW_CONTENT_DB_BACKEND": "mysql"}, config_file=tmp_path / "x.txt")
    message = str(info.value)
    assert "TLDW_CONTENT_DB_BACKEND='mysql'" in message
    assert "sqlite, postgresql, postgres" in message


def test_an_invalid_config_file_value_names_its_key(tmp_path: Path) -> None:
    config = _config(tmp_path, "[Database]\npg_port = not-a-port\n")
    with pytest.raises(ConfigError, match=r"config.txt \[pg_port\]='not-a-port'.*1 to 65535"):
        load_settings(env={}, config_file=config)


def test_an_invalid_libpq_value_names_the_libpq_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"PGPORT='99999'.*1 to 65535"):
        load_settings(env={"PGPORT": "99999"}, config_file=tmp_path / "x.txt")


def test_an_invalid_sslmode_lists_the_modes(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"TLDW_PG_SSLMODE='sometimes'.*verify-full"):
        load_settings(env={"TLDW_PG_SSLMODE": "sometimes"}, config_file=tmp_path / "x.txt")


def test_an_unparsable_config_file_is_an_error_naming_it(tmp_path: Path) -> None:
    config = _config(tmp_path, "no section header here\n")
    with pytest.raises(ConfigError, match=r"config\.txt: cannot be parsed"):
        load_settings(env={}, config_file=config)


def test_the_password_never_appears_in_repr(tmp_path: Path) -> None:
    settings = load_settings(env={"TLDW_PG_PASSWORD": SECRET}, config_file=tmp_path / "x.txt")
    assert settings.pg_password is not None
    assert settings.pg_password.get_secret_value() == SECRET
    target = PgTarget.from_settings(settings)
    for shown in (repr(settings), str(settings), repr(target), target.describe()):
        assert SECRET not in shown
    assert SECRET not in repr(target.sqlalchemy_url())
    assert SECRET in target.conninfo()  # only the driver gets it


def test_the_password_never_appears_in_errors(tmp_path: Path) -> None:
    env = {"TLDW_PG_PASSWORD": SECRET, "TLDW_PG_PORT": "0", "SINGLE_USER_API_KEY": ""}
    with pytest.raises(ConfigError) as info:
        load_settings(env=env, config_file=tmp_path / "x.txt")
    assert "TLDW_PG_PORT" in str(info.value)
    assert SECRET not in str(info.value)


def test_a_secret_with_an_invalid_value_is_hidden_in_the_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(
            env={}, config_file=tmp_path / "x.txt", pg_password=12345678
        )  # not a string: rejected, but never echoed
    assert "12345678" not in str(info.value)
    assert "<hidden>" in str(info.value)


def test_the_password_of_a_dsn_is_kept_secret() -> None:
    target = PgTarget.from_dsn("postgresql://tldw:s3cr3t-p%40ss@db.example:6432/content")
    assert (target.host, target.port, target.database, target.user) == (
        "db.example",
        6432,
        "content",
        "tldw",
    )
    assert SECRET not in repr(target)
    assert SECRET not in target.describe()
    assert target.password is not None and target.password.get_secret_value() == SECRET


def _connection(target: PgTarget) -> tuple[str, int, str, str, str]:
    return (target.host, target.port, target.database, target.user, target.sslmode)


def test_server_migration_tool_and_dsn_share_the_connection_defaults(tmp_path: Path) -> None:
    server = PgTarget.from_settings(load_settings(env={}, config_file=tmp_path / "missing.txt"))
    args = migration_tools.build_parser().parse_args(["--content-sqlite", "media.db"])
    tool = migration_tools.target_from_flags(migration_tools.target_flags(args), {})
    dsn_without_parts = PgTarget.from_dsn("")

    expected = ("localhost", 5432, "tldw_content", "postgres", "prefer")
    assert _connection(server) == expected
    assert _connection(tool) == expected
    assert _connection(dsn_without_parts) == expected


def test_a_dsn_without_a_database_targets_the_default_database() -> None:
    target = PgTarget.from_dsn("postgresql://tldw@db.example:6432")
    assert (target.host, target.port, target.user) == ("db.example", 6432, "tldw")
    assert target.database == "tldw_content"
