"""The load benchmark's server side (``manage.py bench_load``): settings and views for gunicorn."""
