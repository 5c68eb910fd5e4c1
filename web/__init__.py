"""The county office's web console (`huhuqing web`, or `huhuqing run --web`): server-rendered
pages on aiohttp and Jinja2 over the same database, services, access rules and catalogs as the
bot. Each page module has a `routes` table; app.py puts them together."""
