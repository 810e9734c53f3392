"""Production settings pass Django's deployment checks; the defaults embed SQLite."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args, **env):
    full_env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_variables():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="aisle.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", DEBUG="0", SECRET_KEY="", ALLOWED_HOSTS="aisle.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_embedded_default_is_sqlite_in_wal_mode_with_immediate_transactions():
    code = (
        "import os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'retail.settings');"
        "import django; django.setup(); from django.conf import settings as s;"
        "from django.db import connection as c; db = s.DATABASES['default'];"
        "print(db['ENGINE'], db['OPTIONS']['transaction_mode'], s.CELERY_TASK_ALWAYS_EAGER);"
        "cur = c.cursor(); cur.execute('PRAGMA journal_mode'); print(cur.fetchone()[0])"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL")
    }
    env["DATABASE_URL"] = "sqlite:////tmp/aisle-settings-test.sqlite3"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    engine, mode, eager, journal = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert mode == "IMMEDIATE"
    assert eager == "True"
    assert journal == "wal"


def test_log_level_silences_django_request_warnings_too():
    """django.request logs each 4xx as a warning; LOG_LEVEL=ERROR keeps them out."""
    code = (
        "import logging; "
        "logging.getLogger('django.request').warning('client-error-line'); "
        "logging.getLogger('django.request').error('server-error-line')"
    )
    result = run_manage("shell", "--no-imports", "-c", code, LOG_LEVEL="ERROR")
    assert result.returncode == 0, result.stderr
    assert "server-error-line" in result.stderr
    assert "client-error-line" not in result.stderr


def _setting(name: str, **env) -> str:
    code = (
        "import os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'retail.settings');"
        f"import django; django.setup(); from django.conf import settings; print(settings.{name})"
    )
    full_env = {k: v for k, v in os.environ.items() if k != "CACHE_URL"}
    full_env.update(env)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=full_env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_sessions_are_read_from_the_cache_only_when_it_is_shared():
    shared = _setting("SESSION_ENGINE", CACHE_URL="redis://127.0.0.1:6379/15")
    assert shared == "django.contrib.sessions.backends.cached_db"
    # A per-process cache would let another worker keep a session logged out here.
    assert _setting("SESSION_ENGINE") == "django.contrib.sessions.backends.db"


def test_a_redis_cache_is_the_resilient_one_with_short_timeouts():
    redis_url = {"CACHE_URL": "redis://127.0.0.1:6379/15"}
    assert _setting("CACHES['default']['BACKEND']", **redis_url) == (
        "retail.cache.ResilientRedisCache"
    )
    assert float(_setting("CACHES['default']['OPTIONS']['socket_timeout']", **redis_url)) <= 0.5
    assert (
        float(_setting("CACHES['default']['OPTIONS']['socket_connect_timeout']", **redis_url))
        <= 0.5
    )
    assert _setting("CACHES['fallback']['LOCATION']", **redis_url) == "aisle_cache_fallback"
    # The embedded default keeps its per-process cache, with no fallback to set up.
    assert _setting("CACHES['default']['BACKEND']").endswith("LocMemCache")


def test_postgresql_connections_are_health_checked_by_default():
    postgres = {"DATABASE_URL": "postgres://aisle@127.0.0.1:5432/aisle"}
    assert _setting("DATABASES['default']['CONN_HEALTH_CHECKS']", **postgres) == "True"
    off = _setting("DATABASES['default']['CONN_HEALTH_CHECKS']", CONN_HEALTH_CHECKS="0", **postgres)
    assert off == "False"


def test_a_replica_alias_exists_only_with_its_url_and_mirrors_default_in_tests():
    postgres = {"DATABASE_URL": "postgres://aisle@127.0.0.1:5432/aisle"}
    assert _setting("DATABASES.keys()", **postgres) == "dict_keys(['default'])"
    assert _setting("AISLE_READ_REPLICA", **postgres) == ""
    replica = {**postgres, "DATABASE_REPLICA_URL": "postgres://aisle@10.0.0.2:5432/aisle"}
    assert _setting("DATABASES.keys()", **replica) == "dict_keys(['default', 'replica'])"
    assert _setting("AISLE_READ_REPLICA", **replica) == "replica"
    assert _setting("DATABASES['replica']['HOST']", **replica) == "10.0.0.2"
    assert _setting("DATABASES['replica']['TEST']['MIRROR']", **replica) == "default"


def test_behind_pgbouncer_no_server_side_cursors_and_no_prepared_statements():
    pooled = {
        "DATABASE_URL": "postgres://aisle@127.0.0.1:6432/aisle",
        "DATABASE_REPLICA_URL": "postgres://aisle@127.0.0.1:6433/aisle",
        "DATABASE_POOLER": "pgbouncer",
    }
    for alias in ("default", "replica"):
        assert _setting(f"DATABASES['{alias}']['DISABLE_SERVER_SIDE_CURSORS']", **pooled) == "True"
        assert _setting(f"DATABASES['{alias}']['OPTIONS']['prepare_threshold']", **pooled) == "None"
    direct = {"DATABASE_URL": "postgres://aisle@127.0.0.1:5432/aisle"}
    assert _setting("DATABASES['default'].get('DISABLE_SERVER_SIDE_CURSORS')", **direct) in (
        "None",
        "False",
    )
