"""The load benchmark (issue 8): the app's busiest pages under wrk next to a bare
Starlette + Jinja2 + asyncpg (or aiosqlite) page doing the same database work.
``python -m tests.bench.load --help``; tests/bench/README.md describes it."""
