"""Repositories: the SQL for each workflow, on a unit of work's connection.

One module per workflow (receiving, putaway, counting, picking, tasks) plus `master` for the
item, location and user lookups they share. They return small frozen dataclasses, never rows.
"""
