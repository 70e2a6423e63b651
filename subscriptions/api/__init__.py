"""The automation API under ``/api/v1/`` (django-ninja): an entry point like the views.

Each module is one concept's router (subscriptions, webhooks, connection tests, jobs, stored
data, audit, health); ``urls.py`` puts them together with the OpenAPI schema and its docs.
Like a view, an operation parses, authorises and calls a service or a selector; it never
talks to NetSuite and never writes a model itself. Who may call what is the person's role in
``permissions.py``, checked at every request through the token (``auth.py``).
"""
