"""Guards for the few Django/DRF internals apierrors relies on, each kept for a measured or
a missing-public-API reason (see the comment at each use). When an upgrade changes one, the
test here fails and says which internal moved, instead of a slower path or a vaguer error
going unnoticed in production."""

import inspect

import pytest
from django.core.cache.backends.redis import RedisCache
from django.db import connection, transaction
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from rest_framework.response import Response

from apierrors.dictionary.catalog import STAMP_KEY, _stamp_reader
from apierrors.handling.handler import ErrorResponse
from apierrors.models import ErrorCode
from apierrors.stats.store import RedisStore
from apierrors.transactions.middleware import DURABLE_MESSAGE, _RequestAtomic

REDIS_URL = "redis://127.0.0.1:6379/7"


def test_drf_response_init_sets_no_attribute_error_response_lacks():
    ours = ErrorResponse({"a": 1}, 404, "application/json", {"X-Error-Key": "k"})
    theirs = Response({"a": 1}, status=404, headers={"X-Error-Key": "k"})
    missing = set(vars(theirs)) - set(vars(ours)) - {"data"}
    assert not missing, (
        f"DRF's rest_framework.response.Response.__init__ now sets {sorted(missing)}, which "
        "apierrors.handler.ErrorResponse (skipping Response.__init__ for speed) does not: "
        "set them there too."
    )


def test_django_atomic_enter_still_reads_from_testcase_of_the_outer_block():
    enter = inspect.getsource(transaction.Atomic.__enter__)
    init = inspect.getsource(transaction.Atomic.__init__)
    assert "atomic_blocks[-1]._from_testcase" in enter and "self._from_testcase" in init, (
        "Django's django.db.transaction.Atomic no longer reads atomic_blocks[-1]._from_testcase "
        "to refuse a nested durable block: apierrors.middleware._RequestAtomic's property of "
        "that name (its DURABLE_MESSAGE) must find the new hook."
    )


@pytest.mark.django_db
def test_a_durable_block_inside_the_request_atomic_gets_our_message():
    with (
        pytest.raises(RuntimeError) as excinfo,
        _RequestAtomic("default"),
        transaction.atomic(durable=True),
    ):
        pass  # pragma: no cover - refused on entry
    assert str(excinfo.value) == DURABLE_MESSAGE, (
        "Django's Atomic.__enter__ raised its own error for a nested durable block, not "
        "apierrors' DURABLE_MESSAGE: it no longer reads Atomic._from_testcase as relied on."
    )


def test_redis_cache_client_internals_the_stamp_reader_uses():
    cache = RedisCache(REDIS_URL, {})
    client = cache._cache
    params = inspect.signature(client.get_client).parameters
    assert "key" in params and params.get("write", None) is not None, (
        "Django's RedisCacheClient.get_client(key, *, write) changed: apierrors.catalog."
        "_stamp_reader and apierrors.stats.store.RedisStore.client call it."
    )
    assert client._serializer.loads(client._serializer.dumps("stamp")) == "stamp", (
        "Django's RedisCacheClient._serializer (dumps/loads) changed: apierrors.catalog."
        "_stamp_reader decodes the stamp with it."
    )
    reader = _stamp_reader(cache)
    assert reader.__name__ == "read_from_redis", (
        "apierrors.catalog._stamp_reader fell back to cache.get (about 3x slower per stamp "
        "read): Django's RedisCache internals (_cache.get_client, _cache._serializer) changed."
    )


def test_stats_store_gets_a_redis_py_client_with_pipelines():
    client = RedisStore(RedisCache(REDIS_URL, {})).client()
    assert callable(getattr(client, "pipeline", None)) and callable(client.hincrby), (
        "Django's RedisCache._cache.get_client() no longer returns a redis-py client: "
        "apierrors.stats.store.RedisStore writes its counts through it."
    )


@pytest.mark.redis
def test_the_stamp_reader_reads_what_the_cache_wrote():
    cache = RedisCache(REDIS_URL, {"KEY_PREFIX": "apierrors-internals-test"})
    cache.set(STAMP_KEY, "written", timeout=30)
    try:
        assert _stamp_reader(cache)() == "written", (
            "apierrors.catalog._stamp_reader read another value than Django's RedisCache "
            "wrote: its key or serializer internals changed."
        )
    finally:
        cache.delete(STAMP_KEY)


def test_django_names_unique_constraints_with_create_index_name():
    params = list(inspect.signature(BaseDatabaseSchemaEditor._create_index_name).parameters)
    assert params[:4] == ["self", "table_name", "column_names", "suffix"], (
        "Django's BaseDatabaseSchemaEditor._create_index_name(table_name, column_names, "
        "suffix) changed: apierrors.integrity._constraint_names calls it."
    )
    editor = connection.schema_editor()
    field = ErrorCode._meta.get_field("key")
    name = editor._create_index_name(ErrorCode._meta.db_table, [field.column], suffix="_uniq")
    statement = str(editor._create_unique_sql(ErrorCode, [field]))
    assert editor.quote_name(name) in statement, (
        "Django no longer names the unique constraints it creates with "
        "_create_index_name(..., suffix='_uniq'): apierrors.integrity._constraint_names maps "
        "a violated constraint's name to its fields with it."
    )
