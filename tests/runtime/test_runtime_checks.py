"""The system check that explains staleness before it happens: a stamp nobody else can read."""

import pytest
from django.core.checks import run_checks

LOCMEM = "django.core.cache.backends.locmem.LocMemCache"
DUMMY = "django.core.cache.backends.dummy.DummyCache"
REDIS = "django.core.cache.backends.redis.RedisCache"
DATABASE = "django.core.cache.backends.db.DatabaseCache"


def cache_messages(settings, backend: str | None, debug: bool = False, alias: str = "default"):
    settings.DEBUG = debug
    settings.SILENCED_SYSTEM_CHECKS = []
    settings.CACHES = {"default": {"BACKEND": backend}} if backend else {}
    settings.APIERRORS = {**settings.APIERRORS, "CACHE_ALIAS": alias}
    return {m.id: m for m in run_checks(tags=["caches"]) if m.id.startswith("apierrors.")}


@pytest.mark.parametrize("backend", [LOCMEM, DUMMY])
def test_process_local_cache_in_production_warns_about_stale_processes(settings, backend):
    messages = cache_messages(settings, backend)
    assert set(messages) == {"apierrors.W001"}
    text = messages["apierrors.W001"].msg
    assert "only its own process can see" in text
    assert "keeps answering with the old status and text" in text
    assert "Redis" in messages["apierrors.W001"].hint


def test_process_local_cache_is_fine_while_developing(settings):
    assert cache_messages(settings, LOCMEM, debug=True) == {}


def test_shared_cache_passes(settings):
    assert cache_messages(settings, REDIS) == {}


def test_database_cache_warns_about_queries_and_outages(settings):
    messages = cache_messages(settings, DATABASE)
    assert set(messages) == {"apierrors.W002"}
    assert "every error response then queries the database" in messages["apierrors.W002"].msg


def test_unknown_cache_alias_is_an_error(settings):
    messages = cache_messages(settings, REDIS, alias="stamps")
    assert set(messages) == {"apierrors.E003"}
    assert "'stamps'" in messages["apierrors.E003"].msg
